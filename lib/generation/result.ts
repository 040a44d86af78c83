// What a generation resolves with: the text, its tokens, why it stopped and its timings. The shapes
// the addon returns (StopReason, GenerationTimings, TokenChunk) are defined in binding.ts.
import type { GenerationTimings, StopReason, TokenLogprobs } from '../binding.js';

export type { GenerationTimings, StopReason, TokenChunk, TokenLogprobs, TokenProbability } from '../binding.js';

/** What generate() resolves with: the text, its tokens, why it stopped, and timings. */
export interface GenerateResult {
  text: string;
  /** Every sampled token, the end-of-generation token excepted (a stop string's tokens included). */
  tokens: number[];
  stopReason: StopReason;
  timings: GenerationTimings;
  /** With the `logprobs` option: one entry per token of `tokens`. */
  logprobs?: TokenLogprobs[];
}

/** A result of a generation constrained by a JSON Schema: `json` is the parsed, validated output. */
export interface JsonGenerateResult<T> extends GenerateResult {
  json: T;
}
