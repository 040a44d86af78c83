// Writes small llama-architecture GGUF models with seeded random weights and a real vocabulary
// copied from another GGUF file (e.g. llama.cpp's models/ggml-vocab-llama-spm.gguf): the models the
// tests and benchmarks run, since no trained model can be downloaded.
import { readGgufHeader } from './reader.js';
import { GgmlType, GgufValueType, type GgufScalar, type GgufValue } from './types.js';
import { gguf, writeGguf, type GgufTensorSource } from './writer.js';

/** Tensor types createRandomLlama() can write. */
export type RandomLlamaTensorType = 'f32' | 'f16' | 'q8_0';

/** createRandomLlama()'s options: the vocabulary's source, the model's dimensions, tensor type, seed. */
export interface RandomLlamaOptions {
  /** A GGUF file whose `tokenizer.*` metadata (vocabulary, merges, special tokens) is copied. */
  vocabPath: string;
  /** Where to write the model. */
  outputPath: string;
  embeddingLength?: number;
  layerCount?: number;
  headCount?: number;
  headCountKv?: number;
  feedForwardLength?: number;
  contextLength?: number;
  /** Type of the 2-D weights (norms stay F32). */
  type?: RandomLlamaTensorType;
  seed?: number;
  /**
   * Scales what each block adds to the residual stream (its attention and feed-forward output
   * projections). Below 1 the blocks only nudge the embedding, so the next token depends mostly on
   * the current one. Default 1.
   */
  blockScale?: number;
  name?: string;
  /** More metadata to write (e.g. tokenizer.chat_template). */
  metadata?: Array<[string, GgufValue]>;
  /**
   * Control tokens to add after the copied vocabulary's own (e.g. a reasoning model's `<think>` and
   * `</think>`, which the source vocabulary may only spell in pieces).
   */
  specialTokens?: readonly string[];
}

/** What createRandomLlama() wrote: the file, its parameter count, vocabulary size and size in bytes. */
export interface RandomLlamaModel {
  path: string;
  parameters: number;
  vocabSize: number;
  bytes: number;
}

/** mulberry32: a small, fast, seedable PRNG; deterministic across platforms. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values with standard deviation `std` (uniform on [-a, a] has std a/√3). */
function fill(count: number, std: number, next: () => number): Float32Array {
  const values = new Float32Array(count);
  const a = std * Math.sqrt(3);
  for (let i = 0; i < count; i++) values[i] = (next() * 2 - 1) * a;
  return values;
}

const f32View = new Float32Array(1);
const u32View = new Uint32Array(f32View.buffer);

/** IEEE half precision bits of `value`, rounded to nearest even. */
export function toFloat16Bits(value: number): number {
  f32View[0] = value;
  const bits = u32View[0] ?? 0;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Encodes F32 values as a tensor of `type`. */
export function encodeTensor(values: Float32Array, type: RandomLlamaTensorType): Uint8Array {
  if (type === 'f32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (type === 'f16') {
    const out = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = toFloat16Bits(values[i] ?? 0);
    return new Uint8Array(out.buffer);
  }
  // Q8_0: blocks of 32 values as one F16 scale d = max|x| / 127 and 32 int8 quants round(x / d).
  const blocks = values.length / 32;
  const out = Buffer.alloc(blocks * 34);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(values[b * 32 + i] ?? 0));
    const d = amax / 127;
    const id = d ? 1 / d : 0;
    out.writeUInt16LE(toFloat16Bits(d), b * 34);
    for (let i = 0; i < 32; i++) out.writeInt8(Math.round((values[b * 32 + i] ?? 0) * id), b * 34 + 2 + i);
  }
  return out;
}

const GGML_TYPES: Record<RandomLlamaTensorType, GgmlType> = {
  f32: GgmlType.F32,
  f16: GgmlType.F16,
  q8_0: GgmlType.Q8_0,
};
// general.file_type: llama_ftype ALL_F32 = 0, MOSTLY_F16 = 1, MOSTLY_Q8_0 = 7.
const FILE_TYPES: Record<RandomLlamaTensorType, number> = { f32: 0, f16: 1, q8_0: 7 };

/** Writes a random-weight llama model with the vocabulary of `vocabPath`. */
export async function createRandomLlama(options: RandomLlamaOptions): Promise<RandomLlamaModel> {
  const {
    vocabPath,
    outputPath,
    embeddingLength: nEmbd = 64,
    layerCount: nLayer = 2,
    headCount: nHead = 4,
    headCountKv: nHeadKv = nHead,
    feedForwardLength: nFf = 128,
    contextLength = 2048,
    type = 'f32',
    seed = 1,
    blockScale = 1,
    name = 'llama-napi random llama',
  } = options;
  if (nEmbd % nHead !== 0 || nHead % nHeadKv !== 0)
    throw new RangeError('embeddingLength % headCount and headCount % headCountKv must be 0');
  if (type === 'q8_0' && (nEmbd % 32 !== 0 || nFf % 32 !== 0))
    throw new RangeError('q8_0 needs embeddingLength and feedForwardLength divisible by 32');

  const vocab = await readGgufHeader(vocabPath);
  const tokens = vocab.metadata.get('tokenizer.ggml.tokens');
  if (tokens === undefined || tokens.type !== GgufValueType.ARRAY)
    throw new Error(`${vocabPath} has no tokenizer.ggml.tokens`);
  const added = options.specialTokens ?? [];
  const nVocab = tokens.value.length + added.length;
  const headDim = nEmbd / nHead;
  const nEmbdKv = headDim * nHeadKv;

  const metadata: Array<[string, GgufValue]> = [
    ['general.architecture', gguf.str('llama')],
    ['general.name', gguf.str(name)],
    ['general.file_type', gguf.u32(FILE_TYPES[type])],
    ['llama.context_length', gguf.u32(contextLength)],
    ['llama.embedding_length', gguf.u32(nEmbd)],
    ['llama.block_count', gguf.u32(nLayer)],
    ['llama.feed_forward_length', gguf.u32(nFf)],
    ['llama.rope.dimension_count', gguf.u32(headDim)],
    ['llama.attention.head_count', gguf.u32(nHead)],
    ['llama.attention.head_count_kv', gguf.u32(nHeadKv)],
    ['llama.attention.layer_norm_rms_epsilon', gguf.f32(1e-5)],
    ['llama.vocab_size', gguf.u32(nVocab)],
  ];
  // Where tokens are added, each per-token array gets an entry: the text, type CONTROL, score 0.
  const extend: Record<string, GgufScalar[]> = {
    'tokenizer.ggml.tokens': [...added],
    'tokenizer.ggml.token_type': added.map(() => 3),
    'tokenizer.ggml.scores': added.map(() => 0),
  };
  for (const [key, value] of vocab.metadata) {
    if (!key.startsWith('tokenizer.') || options.metadata?.some(([extra]) => extra === key)) continue;
    const more = extend[key];
    if (added.length > 0 && more !== undefined && value.type === GgufValueType.ARRAY && value.itemType !== undefined) {
      metadata.push([key, gguf.array(value.itemType, [...(value.value as GgufScalar[]), ...more])]);
    } else {
      metadata.push([key, value]);
    }
  }
  metadata.push(...(options.metadata ?? []));

  const next = random(seed);
  const tensorType = GGML_TYPES[type];
  const matrix = (tensorName: string, cols: number, rows: number, std: number): GgufTensorSource => ({
    name: tensorName,
    dims: [cols, rows],
    type: tensorType,
    data: () => encodeTensor(fill(cols * rows, std, next), type),
  });
  const norm = (tensorName: string): GgufTensorSource => ({
    name: tensorName,
    dims: [nEmbd],
    type: GgmlType.F32,
    data: () => encodeTensor(new Float32Array(nEmbd).fill(1), 'f32'),
  });

  const inStd = 1 / Math.sqrt(nEmbd);
  const tensors: GgufTensorSource[] = [matrix('token_embd.weight', nEmbd, nVocab, 1)];
  for (let layer = 0; layer < nLayer; layer++) {
    const blk = `blk.${layer}`;
    tensors.push(
      norm(`${blk}.attn_norm.weight`),
      matrix(`${blk}.attn_q.weight`, nEmbd, nEmbd, inStd),
      matrix(`${blk}.attn_k.weight`, nEmbd, nEmbdKv, inStd),
      matrix(`${blk}.attn_v.weight`, nEmbd, nEmbdKv, inStd),
      matrix(`${blk}.attn_output.weight`, nEmbd, nEmbd, inStd * blockScale),
      norm(`${blk}.ffn_norm.weight`),
      matrix(`${blk}.ffn_gate.weight`, nEmbd, nFf, inStd),
      matrix(`${blk}.ffn_up.weight`, nEmbd, nFf, inStd),
      matrix(`${blk}.ffn_down.weight`, nFf, nEmbd, blockScale / Math.sqrt(nFf)),
    );
  }
  tensors.push(norm('output_norm.weight'), matrix('output.weight', nEmbd, nVocab, inStd));

  const bytes = writeGguf(outputPath, { metadata, tensors });
  const parameters = tensors.reduce((sum, tensor) => sum + tensor.dims.reduce((a, b) => a * b, 1), 0);
  return { path: outputPath, parameters, vocabSize: nVocab, bytes };
}
