// Checks of a model's hyperparameters that llama.cpp enforces with assertions (which abort the
// whole process) rather than errors: found by fuzzing, checked here first so a bad file is a
// LlamaError INVALID_MODEL_FILE instead. Limits are the pinned llama.cpp's (src/llama-hparams.h).
import { GgufFormatError, type GgufHeader } from './reader.js';
import { GgufValueType, type GgufValue } from './types.js';

const LLAMA_MAX_LAYERS = 512;
/** The largest value llama.cpp's enum llama_ftype can hold (its values: 0 to 41, and 1024 = guessed). */
const LLAMA_FTYPE_MAX = 2047;
const LLAMA_MAX_EXPERTS = 1024;

/** The numbers of a scalar or an array value (per-layer hyperparameters are arrays). */
function numbers(value: GgufValue | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const items = value.type === GgufValueType.ARRAY ? value.value : [value.value];
  return items.map((item) =>
    typeof item === 'bigint'
      ? Number(item)
      : typeof item === 'number'
        ? item
        : typeof item === 'boolean'
          ? Number(item)
          : Number.NaN,
  );
}

/** The vocabulary arrays validateModel() reads. Their lengths are enough (a header read with
 *  `arrays: false`), provided the reader checked the tokens' uniqueness (`UNIQUE_ARRAYS`). */
export const VALIDATED_ARRAYS = [
  'tokenizer.ggml.tokens',
  'tokenizer.ggml.scores',
  'tokenizer.ggml.token_type',
] as const;

/** The string arrays whose items llama.cpp needs distinct (readGgufHeader's `unique`): a repeated
 *  token makes its vocabulary maps disagree, which it asserts on. */
export const UNIQUE_ARRAYS = ['tokenizer.ggml.tokens'] as const;

/** Items of an array value: read, or only counted (`arrays: false`). */
const itemCount = (value: GgufValue & { type: GgufValueType.ARRAY }) => value.length ?? value.value.length;

/** Throws GgufFormatError for a vocabulary llama.cpp would abort on or read out of bounds. */
export function validateVocabulary(header: GgufHeader): void {
  const tokens = header.metadata.get('tokenizer.ggml.tokens');
  if (tokens === undefined) return;
  if (tokens.type !== GgufValueType.ARRAY || tokens.itemType !== GgufValueType.STRING) {
    throw new GgufFormatError('tokenizer.ggml.tokens must be an array of strings');
  }
  // Read tokens are checked here; a header read without them was checked by the reader (`unique`).
  const seen = new Set<unknown>();
  for (const [i, token] of tokens.value.entries()) {
    if (seen.has(token))
      throw new GgufFormatError(`tokenizer.ggml.tokens has ${JSON.stringify(token)} twice (at ${i})`);
    seen.add(token);
  }
  // llama.cpp reads scores[i] and token_type[i] for every token without checking the lengths.
  for (const [key, itemTypes] of [
    ['tokenizer.ggml.scores', [GgufValueType.FLOAT32]],
    ['tokenizer.ggml.token_type', [GgufValueType.INT32, GgufValueType.UINT32]],
  ] as const) {
    const value = header.metadata.get(key);
    if (value === undefined) continue;
    if (value.type !== GgufValueType.ARRAY || !(itemTypes as readonly GgufValueType[]).includes(value.itemType)) {
      throw new GgufFormatError(`${key} must be an array of ${itemTypes.map((t) => GgufValueType[t]).join(' or ')}`);
    }
    if (itemCount(value) !== itemCount(tokens)) {
      throw new GgufFormatError(`${key} has ${itemCount(value)} entries for ${itemCount(tokens)} tokens`);
    }
  }
}

/** Every check of this file: the hyperparameters and the vocabulary. */
export function validateModel(header: GgufHeader): void {
  validateHyperparameters(header);
  validateVocabulary(header);
}

/** Throws GgufFormatError for hyperparameters llama.cpp would abort on. */
export function validateHyperparameters(header: GgufHeader): void {
  // llama.cpp casts these integers straight into its enums: a value outside an enum's range is
  // undefined behaviour (found by fuzzing under UBSan).
  const fileType = numbers(header.metadata.get('general.file_type'))?.[0];
  if (fileType !== undefined && !(Number.isInteger(fileType) && fileType >= 0 && fileType <= LLAMA_FTYPE_MAX)) {
    throw new GgufFormatError(`general.file_type is ${fileType}: llama.cpp's file types are 0 to ${LLAMA_FTYPE_MAX}`);
  }
  const arch = header.metadata.get('general.architecture');
  if (arch === undefined || arch.type !== GgufValueType.STRING) return; // llama.cpp reports this itself
  const key = (suffix: string) => `${String(arch.value)}.${suffix}`;
  const get = (suffix: string) => numbers(header.metadata.get(key(suffix)));
  const scalar = (suffix: string) => get(suffix)?.[0];
  const fail = (message: string): never => {
    throw new GgufFormatError(message);
  };

  const layers = scalar('block_count');
  if (layers !== undefined && !(Number.isInteger(layers) && layers > 0 && layers <= LLAMA_MAX_LAYERS)) {
    fail(`${key('block_count')} is ${layers}: llama.cpp supports 1 to ${LLAMA_MAX_LAYERS} layers`);
  }
  for (const suffix of ['nextn_predict_layers', 'posnet.block_count', 'convnext.block_count']) {
    const value = scalar(suffix);
    if (value !== undefined && layers !== undefined && !(value >= 0 && value <= layers))
      fail(`${key(suffix)} is ${value}, more than the ${layers} layers`);
  }
  const experts = scalar('expert_count') ?? 0;
  if (!(Number.isInteger(experts) && experts >= 0 && experts <= LLAMA_MAX_EXPERTS))
    fail(`${key('expert_count')} is ${experts}: at most ${LLAMA_MAX_EXPERTS}`);
  const used = Math.max(0, ...(get('expert_used_count') ?? [0]).map((v) => (Number.isNaN(v) ? Infinity : v)));
  if (used > experts) fail(`${key('expert_used_count')} is ${used}, more than the ${experts} experts`);
  if (experts > 0 && used === 0 && header.metadata.has(key('expert_used_count')))
    fail(`${key('expert_used_count')} must be at least 1 with ${experts} experts`);
  const groups = scalar('expert_group_count') ?? 0;
  const groupsUsed = scalar('expert_group_used_count') ?? 0;
  if (experts === 0 && groups !== 0) fail(`${key('expert_group_count')} is ${groups} without experts`);
  if (groups !== 0 && !(groups < experts && experts % groups === 0 && groupsUsed > 0 && groupsUsed < groups)) {
    fail(
      `${key('expert_group_count')} ${groups} and ${key('expert_group_used_count')} ${groupsUsed} ` +
        `do not divide ${experts} experts`,
    );
  }
  const pooling = scalar('pooling_type');
  if (
    pooling !== undefined &&
    !(pooling === -1 || pooling === 0xffffffff || (Number.isInteger(pooling) && pooling >= 0 && pooling <= 4))
  ) {
    fail(`${key('pooling_type')} is ${pooling}: llama.cpp's pooling types are -1 (unspecified) to 4 (rank)`);
  }
  for (const suffix of [
    'attention.layer_norm_epsilon',
    'attention.layer_norm_rms_epsilon',
    'attention.group_norm_epsilon',
  ]) {
    for (const value of get(suffix) ?? []) {
      if (!(Number.isFinite(value) && value >= 0)) fail(`${key(suffix)} is ${value}: it must be a finite number ≥ 0`);
    }
  }
}
