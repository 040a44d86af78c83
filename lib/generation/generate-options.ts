// Generation options: their public shape, their checks (INVALID_OPTION before any native call),
// and their translation into the addon's request.
import {
  type NativeGenerateRequest,
  type NativeSamplingParams,
  SAMPLER_NAMES,
  type SamplerName,
  type TokenChunk,
} from '../binding.js';
import { LlamaError, invalidOption } from '../errors.js';
import {
  optionalBoolean,
  optionalFunction,
  optionalLimited,
  optionalSignal,
  optionsObject,
  rejectUnknown,
} from '../option-checks.js';
import { prepareValidator } from './json-output.js';
import { jsonSchemaToGrammar, type JsonSchema } from './json-schema.js';

/** llama.cpp's sampler chain, in camelCase. Defaults are llama.cpp's. */
export interface SamplingOptions {
  /** 0 = greedy. Default 0.8. */
  temperature?: number;
  /** Keep the k most likely tokens (0 = off). Default 40. */
  topK?: number;
  /** Nucleus sampling (1 = off). Default 0.95. */
  topP?: number;
  /** Drop tokens below minP × the best token's probability (0 = off). Default 0.05. */
  minP?: number;
  /** Locally typical sampling (1 = off). Default 1. */
  typicalP?: number;
  /** Penalty on tokens seen in the window (1 = off). Default 1. */
  repeatPenalty?: number;
  /** Penalty proportional to how often a token occurred in the window (0 = off). */
  frequencyPenalty?: number;
  /** Penalty on any token that occurred in the window (0 = off). */
  presencePenalty?: number;
  /** How many recent tokens the penalties look at (0 = off). Default 64. */
  penaltyLastN?: number;
  /** Added to a token's logit; -Infinity forbids the token. */
  logitBias?: Record<number, number> | Map<number, number>;
  /** Keep the tokens within topNSigma standard deviations of the best logit (0 = off). */
  topNSigma?: number;
  /** DRY ("don't repeat yourself"): penalizes tokens that would extend a repeat of earlier text. */
  dry?: DryOptions;
  /** XTC ("exclude top choices"): sometimes removes the most likely tokens, for variety. */
  xtc?: XtcOptions;
  /** Mirostat: sampling that steers toward a target surprise; replaces the samplers of `samplers`. */
  mirostat?: MirostatOptions;
  /**
   * The samplers to apply, in order (llama-completion's `--samplers`). Default: llama.cpp's order,
   * penalties, dry, topNSigma, topK, typicalP, topP, minP, xtc, temperature. One left out is not
   * applied.
   */
  samplers?: SamplerName[];
  /** Seed of the random draw: same seed, same output. Default: random. */
  seed?: number;
}

/** {@link SamplingOptions.dry}: llama.cpp's DRY sampler. */
export interface DryOptions {
  /** Strength of the penalty (0 = off). */
  multiplier: number;
  /** Growth of the penalty with the repeat's length (≥ 1). Default 1.75. */
  base?: number;
  /** Repeats up to this many tokens go unpenalized. Default 2. */
  allowedLength?: number;
  /** How many recent tokens are searched for repeats (0 = off). Default 64. */
  penaltyLastN?: number;
  /** Texts that end a repeat. Default ["\n", ":", "\"", "*"]. */
  sequenceBreakers?: string[];
}

/** {@link SamplingOptions.xtc}: llama.cpp's XTC sampler. */
export interface XtcOptions {
  /** Chance per token that the top choices are removed (0 = off). */
  probability: number;
  /** Tokens at least this likely count as top choices (> 0.5 = off). Default 0.1. */
  threshold?: number;
}

/** {@link SamplingOptions.mirostat}: llama.cpp's Mirostat samplers. */
export interface MirostatOptions {
  version: 1 | 2;
  /** Target surprise (entropy). Default 5. */
  tau?: number;
  /** Learning rate. Default 0.1. */
  eta?: number;
}

/** Options of {@link LlamaModel.generate} and {@link LlamaModel.stream}. */
export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to generate. Default: until end of generation or a full context. */
  maxTokens?: number;
  /** Stop as soon as the text contains one of these; the stop string is not returned. */
  stop?: string[];
  /** A GBNF grammar the output must follow (llama.cpp's grammar sampler). */
  grammar?: string;
  /**
   * A JSON Schema the output must match: converted to a grammar, and the result parsed, validated
   * and returned as `json`. Bound strings and arrays (maxLength, maxItems) so generation ends.
   */
  jsonSchema?: JsonSchema;
  /** Stops generation: the result keeps what was generated so far, with `stopReason: 'abort'`. */
  signal?: AbortSignal;
  /** Called for each generated token, in order, before the promise resolves. */
  onToken?: (chunk: TokenChunk) => void;
  /** Parse special-token text in the prompt (as llama.cpp's tools do). Default true. */
  parseSpecial?: boolean;
  /** Add BOS/EOS to the prompt as the vocabulary asks. Default true. */
  addSpecial?: boolean;
  /** Render special (control) tokens in the output text. Default false. */
  special?: boolean;
  /**
   * Report each generated token's log-probability and its `logprobs` most likely alternatives
   * (0–20) in `result.logprobs` and on each chunk; from the model's distribution before sampling.
   * Default: none.
   */
  logprobs?: number;
  /**
   * Go on past a full context, as llama-completion's `--context-shift --keep K` does: keep BOS and the
   * first `keep` prompt tokens after it (default 0), drop the older half of the rest, and continue.
   * Without it a generation that fills the context stops with `'contextFull'`. A model whose memory
   * cannot shift (recurrent, hybrid) rejects it with `UNSUPPORTED`.
   */
  contextShift?: boolean | { keep?: number };
  /** Never sample an end-of-generation token: only maxTokens, a stop string, an abort or a full context end it. */
  ignoreEos?: boolean;
}

export const GENERATE_OPTION_KEYS = [
  'temperature',
  'topK',
  'topP',
  'minP',
  'typicalP',
  'repeatPenalty',
  'frequencyPenalty',
  'presencePenalty',
  'penaltyLastN',
  'logitBias',
  'topNSigma',
  'dry',
  'xtc',
  'mirostat',
  'samplers',
  'seed',
  'logprobs',
  'contextShift',
  'ignoreEos',
  'maxTokens',
  'stop',
  'grammar',
  'signal',
  'onToken',
  'parseSpecial',
  'addSpecial',
  'special',
  'jsonSchema',
] as const;

/** Checked generation options, ready for the addon. */
export interface ParsedGenerateOptions {
  request: Omit<NativeGenerateRequest, 'tokens'>;
  signal: AbortSignal | undefined;
  onToken: ((chunk: TokenChunk) => void) | undefined;
  parseSpecial: boolean;
  addSpecial: boolean;
  jsonSchema: JsonSchema | undefined;
}

function parseLogitBias(value: unknown, vocabSize: number): Array<[number, number]> | undefined {
  if (value === undefined) return undefined;
  let entries: Array<[unknown, unknown]>;
  if (value instanceof Map) entries = [...value.entries()];
  else if (value !== null && typeof value === 'object' && !Array.isArray(value)) entries = Object.entries(value);
  else invalidOption('logitBias', 'an object or Map of token id → bias', value);
  return entries.map(([key, bias]) => {
    const token = typeof key === 'string' && /^\d+$/.test(key) ? Number(key) : key;
    if (typeof token !== 'number' || !Number.isInteger(token) || token < 0 || token >= vocabSize) {
      invalidOption('logitBias key', `a token id from 0 to ${vocabSize - 1}`, key);
    }
    if (typeof bias !== 'number' || Number.isNaN(bias) || bias === Number.POSITIVE_INFINITY) {
      invalidOption(`logitBias[${token}]`, 'a number or -Infinity', bias);
    }
    return [token, bias];
  });
}

function subOptions<T extends object>(name: string, value: unknown, keys: readonly string[]): Partial<T> | undefined {
  if (value === undefined) return undefined;
  const sub = optionsObject<T>(name, value);
  rejectUnknown(name, sub, keys);
  return sub;
}

function parseSamplers(sampling: NativeSamplingParams, opts: Partial<SamplingOptions>): void {
  const set = <K extends keyof NativeSamplingParams>(key: K, value: NativeSamplingParams[K] | undefined) => {
    if (value !== undefined) sampling[key] = value;
  };
  set('topNSigma', optionalLimited('topNSigma', opts.topNSigma));
  const dry = subOptions<DryOptions>('dry', opts.dry, [
    'multiplier',
    'base',
    'allowedLength',
    'penaltyLastN',
    'sequenceBreakers',
  ]);
  if (dry !== undefined) {
    if (dry.multiplier === undefined) invalidOption('dry.multiplier', 'a number from 0 to 1000000', undefined);
    set('dryMultiplier', optionalLimited('dryMultiplier', dry.multiplier, 'dry.multiplier'));
    set('dryBase', optionalLimited('dryBase', dry.base, 'dry.base'));
    set('dryAllowedLength', optionalLimited('dryAllowedLength', dry.allowedLength, 'dry.allowedLength'));
    set('dryPenaltyLastN', optionalLimited('dryPenaltyLastN', dry.penaltyLastN, 'dry.penaltyLastN'));
    if (dry.sequenceBreakers !== undefined) {
      const breakers: unknown = dry.sequenceBreakers;
      if (!Array.isArray(breakers) || breakers.some((entry) => typeof entry !== 'string' || entry.length === 0)) {
        invalidOption('dry.sequenceBreakers', 'an array of non-empty strings', breakers);
      }
      sampling.drySequenceBreakers = [...(breakers as string[])];
    }
  }
  const xtc = subOptions<XtcOptions>('xtc', opts.xtc, ['probability', 'threshold']);
  if (xtc !== undefined) {
    if (xtc.probability === undefined) invalidOption('xtc.probability', 'a number from 0 to 1', undefined);
    set('xtcProbability', optionalLimited('xtcProbability', xtc.probability, 'xtc.probability'));
    set('xtcThreshold', optionalLimited('xtcThreshold', xtc.threshold, 'xtc.threshold'));
  }
  const mirostat = subOptions<MirostatOptions>('mirostat', opts.mirostat, ['version', 'tau', 'eta']);
  if (mirostat !== undefined) {
    if (mirostat.version !== 1 && mirostat.version !== 2) invalidOption('mirostat.version', '1 or 2', mirostat.version);
    sampling.mirostat = mirostat.version;
    set('mirostatTau', optionalLimited('mirostatTau', mirostat.tau, 'mirostat.tau'));
    set('mirostatEta', optionalLimited('mirostatEta', mirostat.eta, 'mirostat.eta'));
  }
  if (opts.samplers !== undefined) {
    const order: unknown = opts.samplers;
    const known: readonly string[] = SAMPLER_NAMES;
    if (!Array.isArray(order) || order.some((name) => typeof name !== 'string' || !known.includes(name))) {
      invalidOption('samplers', `an array of sampler names (${SAMPLER_NAMES.join(', ')})`, order);
    }
    if (new Set(order).size !== order.length) invalidOption('samplers', 'each sampler at most once', order);
    sampling.samplers = [...(order as SamplerName[])];
  }
}

/** Checks generation options; `extraKeys` are allowed keys handled by the caller. */
export function parseGenerateOptions(
  options: unknown,
  vocabSize: number,
  extraKeys: readonly string[] = [],
): ParsedGenerateOptions {
  const opts = optionsObject<GenerateOptions>('options', options);
  rejectUnknown('generate options', opts, [...GENERATE_OPTION_KEYS, ...extraKeys]);
  const sampling: NativeSamplingParams = {};
  const set = <K extends keyof NativeSamplingParams>(key: K, value: NativeSamplingParams[K] | undefined) => {
    if (value !== undefined) sampling[key] = value;
  };
  set('temperature', optionalLimited('temperature', opts.temperature));
  set('topK', optionalLimited('topK', opts.topK));
  set('topP', optionalLimited('topP', opts.topP));
  set('minP', optionalLimited('minP', opts.minP));
  set('typicalP', optionalLimited('typicalP', opts.typicalP));
  set('repeatPenalty', optionalLimited('repeatPenalty', opts.repeatPenalty));
  set('frequencyPenalty', optionalLimited('frequencyPenalty', opts.frequencyPenalty));
  set('presencePenalty', optionalLimited('presencePenalty', opts.presencePenalty));
  set('penaltyLastN', optionalLimited('penaltyLastN', opts.penaltyLastN));
  set('seed', optionalLimited('seed', opts.seed));
  set('logitBias', parseLogitBias(opts.logitBias, vocabSize));
  parseSamplers(sampling, opts);
  if (opts.grammar !== undefined) {
    if (typeof opts.grammar !== 'string' || opts.grammar.trim() === '')
      invalidOption('grammar', 'a non-empty GBNF string', opts.grammar);
    sampling.grammar = opts.grammar;
  }
  const jsonSchema = opts.jsonSchema;
  if (jsonSchema !== undefined) {
    if (opts.grammar !== undefined)
      throw new LlamaError('INVALID_OPTION', 'grammar and jsonSchema cannot be used together');
    if (
      typeof jsonSchema !== 'boolean' &&
      (jsonSchema === null || typeof jsonSchema !== 'object' || Array.isArray(jsonSchema))
    ) {
      invalidOption('jsonSchema', 'a JSON Schema object', jsonSchema);
    }
    sampling.grammar = jsonSchemaToGrammar(jsonSchema);
    prepareValidator(jsonSchema);
  }

  const request: Omit<NativeGenerateRequest, 'tokens'> = { sampling };
  const maxTokens = optionalLimited('maxTokens', opts.maxTokens);
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  if (opts.stop !== undefined) {
    if (!Array.isArray(opts.stop) || opts.stop.some((stop) => typeof stop !== 'string' || stop.length === 0)) {
      invalidOption('stop', 'an array of non-empty strings', opts.stop);
    }
    if (opts.stop.length > 0) request.stop = [...opts.stop];
  }
  const special = optionalBoolean('special', opts.special);
  if (special !== undefined) request.special = special;
  const logprobs = optionalLimited('logprobs', opts.logprobs);
  if (logprobs !== undefined) request.logprobs = logprobs;
  const ignoreEos = optionalBoolean('ignoreEos', opts.ignoreEos);
  if (ignoreEos !== undefined) request.ignoreEos = ignoreEos;
  if (opts.contextShift !== undefined && opts.contextShift !== false) {
    request.contextShift = true;
    if (opts.contextShift !== true) {
      const shift = subOptions<{ keep?: number }>('contextShift', opts.contextShift, ['keep']);
      const keep = optionalLimited('contextShiftKeep', shift?.keep, 'contextShift.keep');
      if (keep !== undefined) request.contextShiftKeep = keep;
    }
  }
  const signal = optionalSignal('signal', opts.signal);
  if (signal?.aborted) throw new LlamaError('ABORTED', 'generation was aborted');
  return {
    request,
    signal,
    onToken: optionalFunction<(chunk: TokenChunk) => void>('onToken', opts.onToken),
    parseSpecial: optionalBoolean('parseSpecial', opts.parseSpecial) ?? true,
    addSpecial: optionalBoolean('addSpecial', opts.addSpecial) ?? true,
    jsonSchema,
  };
}
