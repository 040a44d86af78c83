// `llama-napi/native`: the raw addon, one-to-one with llama.cpp's primitives, exactly typed.
// Each handle (Model, Context, Sampler) has one owner; every method that does real work returns a
// Promise run on the thread pool; errors carry a `code` (see LlamaError).
import { addon, type NativeAddon } from './binding.js';

export { NATIVE_ERROR_CODES, SAMPLER_NAMES, STOP_REASONS } from './binding.js';
import { checkModelFile } from './gguf/check-file.js';

export type {
  NativeAbortToken,
  NativeAddon,
  NativeContext,
  NativeContextInfo,
  NativeContextOptions,
  NativeContextPerf,
  NativeDevice,
  NativeErrorCode,
  NativeGenerateRequest,
  NativeGenerateResult,
  NativeLoadModelOptions,
  NativeModel,
  NativeModelInfo,
  NativeSampler,
  NativeSamplingParams,
  NativeSpecialTokens,
  StopReason,
  TokenChunk,
  GenerationTimings,
} from './binding.js';

let guarded: NativeAddon | undefined;

/**
 * The loaded addon (loaded on first call). Its loadModel() first checks the file as
 * LlamaModel.load() does (GGUF structure, hyperparameters, vocabulary), so a malformed file is a
 * LlamaError rather than an assertion inside llama.cpp that would end the process.
 */
export function loadAddon(): NativeAddon {
  if (guarded === undefined) {
    const raw = addon();
    const loadModel: NativeAddon['loadModel'] = async (path, options, onProgress, abort) => {
      if (typeof path === 'string' && path.length > 0) await checkModelFile(path);
      return raw.loadModel(path, options, onProgress, abort);
    };
    guarded = Object.create(raw, { loadModel: { value: loadModel, enumerable: true } }) as NativeAddon;
  }
  return guarded;
}
