// `llama-napi/native`: the raw addon, one-to-one with llama.cpp's primitives, exactly typed.
// Each handle (Model, Context, Sampler) has one owner; every method that does real work returns a
// Promise run on the thread pool; errors carry a `code` (see LlamaError).
import { addon, type NativeAddon } from './binding.js';

export type {
  NativeAbortToken,
  NativeAddon,
  NativeContext,
  NativeContextInfo,
  NativeContextOptions,
  NativeErrorCode,
  NativeGenerateRequest,
  NativeGenerateResult,
  NativeLoadModelOptions,
  NativeModel,
  NativeModelInfo,
  NativeSampler,
  NativeSamplingParams,
  NativeSpecialTokens,
  NativeStopReason,
  NativeTokenChunk,
} from './binding.js';

/** The loaded addon (loaded on first call). */
export function loadAddon(): NativeAddon {
  return addon();
}
