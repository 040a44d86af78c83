// The ranges of the numeric options, one table for both languages: TypeScript checks the public
// API's options against it (lib/option-checks.ts), and the addon's own checks use the same limits
// from native/core/OptionLimits.h, which `npm run gen:limits` writes from this table (a test checks
// that it is current).

/** The range of one numeric option. */
export interface OptionLimit {
  /** Whole numbers only. */
  readonly integer: boolean;
  readonly min: number;
  readonly max: number;
}

const INT32_MAX = 2 ** 31 - 1;

/** Every numeric option with a fixed range, by name. */
export const OPTION_LIMITS = {
  // Loading a model. gpuLayers: -1 puts every layer on the GPU ('all' in LlamaModel.load).
  gpuLayers: { integer: true, min: -1, max: INT32_MAX },
  // A context (llama_context_params). 256 sequences is llama.cpp's LLAMA_MAX_SEQ.
  contextSize: { integer: true, min: 1, max: 2 ** 24 },
  batchSize: { integer: true, min: 1, max: 2 ** 24 },
  ubatchSize: { integer: true, min: 1, max: 2 ** 24 },
  threads: { integer: true, min: 1, max: 1024 },
  threadsBatch: { integer: true, min: 1, max: 1024 },
  sequences: { integer: true, min: 1, max: 256 },
  // Speculative decoding: tokens drafted per step and sequence.
  maxDraftTokens: { integer: true, min: 1, max: 64 },
  // A generation.
  maxTokens: { integer: true, min: 0, max: INT32_MAX },
  // Sampling (llama.cpp's sampler chain).
  temperature: { integer: false, min: 0, max: 1e6 },
  topK: { integer: true, min: 0, max: INT32_MAX },
  topP: { integer: false, min: 0, max: 1 },
  minP: { integer: false, min: 0, max: 1 },
  typicalP: { integer: false, min: 0, max: 1 },
  penaltyLastN: { integer: true, min: 0, max: INT32_MAX },
  repeatPenalty: { integer: false, min: 1e-6, max: 1e6 },
  frequencyPenalty: { integer: false, min: -1e6, max: 1e6 },
  presencePenalty: { integer: false, min: -1e6, max: 1e6 },
  topNSigma: { integer: false, min: 0, max: 1e6 },
  dryMultiplier: { integer: false, min: 0, max: 1e6 },
  dryBase: { integer: false, min: 1, max: 1e6 },
  dryAllowedLength: { integer: true, min: 0, max: INT32_MAX },
  dryPenaltyLastN: { integer: true, min: 0, max: INT32_MAX },
  xtcProbability: { integer: false, min: 0, max: 1 },
  xtcThreshold: { integer: false, min: 0, max: 1 },
  mirostatTau: { integer: false, min: 0, max: 1e6 },
  mirostatEta: { integer: false, min: 0, max: 1 },
  seed: { integer: true, min: 0, max: 2 ** 32 - 1 },
  // Context shift: prompt tokens after BOS that a shift never drops.
  contextShiftKeep: { integer: true, min: 0, max: INT32_MAX },
  // Token probabilities: the most likely alternatives reported per token.
  logprobs: { integer: true, min: 0, max: 20 },
} as const satisfies Record<string, OptionLimit>;

/** The name of an option with a range in {@link OPTION_LIMITS}. */
export type LimitedOption = keyof typeof OPTION_LIMITS;
