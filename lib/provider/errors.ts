// AiProviderError: what the job-application provider rejects with — a LlamaError whose code says
// what a caller can do about it.
import { LlamaError, type LlamaErrorCode } from '../errors.js';

/** The codes an AiProvider operation can fail with. */
export type AiProviderErrorCode =
  | 'MODEL_NOT_CONFIGURED'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_LOAD_FAILED'
  | 'INVALID_INPUT'
  | 'CONTEXT_OVERFLOW'
  | 'INVALID_OUTPUT'
  | 'ABORTED';

/**
 * - `MODEL_NOT_CONFIGURED`: no model path (option or LLAMA_NAPI_MODEL);
 * - `MODEL_NOT_FOUND` / `MODEL_LOAD_FAILED`: the path is wrong, or not a model llama.cpp can load, or
 *   an `hf:`/https model failed to download (its `cause`: the LlamaError `DOWNLOAD_FAILED` or
 *   `CHECKSUM_MISMATCH`);
 * - `INVALID_INPUT`: an empty posting or a malformed profile (the message names the field);
 * - `CONTEXT_OVERFLOW`: the input does not fit the model's context (nothing is cut silently);
 * - `INVALID_OUTPUT`: the model's output did not complete or validate (e.g. maxTokens too small);
 * - `ABORTED`: the signal fired.
 */
export class AiProviderError extends LlamaError<AiProviderErrorCode> {
  override readonly name: string = 'AiProviderError';
}

/** Maps an error from the model layer onto the provider's codes. */
export function toProviderError(error: unknown): unknown {
  if (error instanceof AiProviderError || !(error instanceof LlamaError)) return error;
  const map: Partial<Record<LlamaErrorCode, AiProviderErrorCode>> = {
    MODEL_NOT_FOUND: 'MODEL_NOT_FOUND',
    INVALID_MODEL_FILE: 'MODEL_LOAD_FAILED',
    MODEL_LOAD_FAILED: 'MODEL_LOAD_FAILED',
    CONTEXT_CREATE_FAILED: 'MODEL_LOAD_FAILED',
    INSUFFICIENT_MEMORY: 'MODEL_LOAD_FAILED',
    VOCAB_ONLY: 'MODEL_LOAD_FAILED',
    INVALID_DRAFT_MODEL: 'MODEL_LOAD_FAILED',
    UNSUPPORTED: 'MODEL_LOAD_FAILED',
    DOWNLOAD_FAILED: 'MODEL_LOAD_FAILED',
    CHECKSUM_MISMATCH: 'MODEL_LOAD_FAILED',
    CONTEXT_OVERFLOW: 'CONTEXT_OVERFLOW',
    INVALID_JSON_OUTPUT: 'INVALID_OUTPUT',
    SAMPLER_FAILED: 'INVALID_OUTPUT',
    ABORTED: 'ABORTED',
    INVALID_OPTION: 'INVALID_INPUT',
    INVALID_ARGUMENT: 'INVALID_INPUT',
  };
  const code = map[(error as LlamaError).code];
  return code === undefined ? error : new AiProviderError(code, error.message, { cause: error });
}
