// LlamaError: the one error class of the library, with a string `code`: the codes the addon raises
// (NATIVE_ERROR_CODES, the list of native/core/Errors.h) and those only TypeScript raises.
import { NATIVE_ERROR_CODES } from './binding.js';

/** Every code a LlamaError can carry. */
export const LLAMA_ERROR_CODES = [
  ...NATIVE_ERROR_CODES,
  'INVALID_OPTION',
  'MODEL_NOT_FOUND',
  'INVALID_MODEL_FILE',
  'INVALID_JSON_SCHEMA',
  'INVALID_JSON_OUTPUT',
  'INVALID_TOOL_CALL',
  'DOWNLOAD_FAILED',
  'CHECKSUM_MISMATCH',
] as const;

/**
 * Why an operation failed:
 * - `INVALID_OPTION` / `INVALID_ARGUMENT`: a bad option or argument, caught before any native work;
 * - `MODEL_NOT_FOUND`, `INVALID_MODEL_FILE`, `MODEL_LOAD_FAILED`: the model file (`MODEL_NOT_FOUND` also:
 *   no file of the quantization an `hf:OWNER/REPO:QUANT` source asks for);
 * - `INSUFFICIENT_MEMORY`: the model and its context do not fit the memory of the devices (or of this
 *   machine) with the options given, as llama.cpp projects it before allocating anything;
 * - `CONTEXT_CREATE_FAILED` (often memory), `CONTEXT_OVERFLOW` (a prompt longer than the context);
 * - `TOKENIZE_FAILED`, `DECODE_FAILED`, `SAMPLER_FAILED`: llama.cpp refused the work;
 * - `INVALID_GRAMMAR`: a GBNF grammar (or a JSON schema's) that llama.cpp cannot use;
 * - `INVALID_JSON_SCHEMA`: a JSON schema (or a keyword of it) that cannot become a grammar;
 * - `INVALID_JSON_OUTPUT`: output that does not parse or validate (e.g. cut off by maxTokens);
 * - `INVALID_CHAT_TEMPLATE`: a chat template that does not parse or fails as it renders;
 * - `INVALID_SESSION_FILE`: a chat session file that is not one, is cut short or damaged, was made
 *   for another model (or other adapters), or by a newer version of this library;
 * - `RPC_FAILED`: an RPC server that could not start or stopped;
 * - `INVALID_TOOL_CALL`: a tool call of a tool that was not offered, or with arguments that do not
 *   parse or match the tool's parameters;
 * - `DOWNLOAD_FAILED`: a model download that failed: an HTTP status (401/403 from the hub: a gated or
 *   private repository, which needs HF_TOKEN), a network failure after the retries, a size short of
 *   what the server announced;
 * - `CHECKSUM_MISMATCH`: a downloaded file whose SHA-256 is not the one given or the hub's (deleted);
 * - `VOCAB_ONLY`: generation on a model loaded with `vocabOnly`;
 * - `DISPOSED`: a call after (or during) `dispose()`; `BUSY`: raw-API misuse (one operation per context);
 * - `ABORTED`: an AbortSignal fired; `NATIVE_ERROR`: an unexpected failure inside llama.cpp.
 *
 * The job-application provider's errors are a subclass with codes of their own (AiProviderError).
 */
export type LlamaErrorCode = (typeof LLAMA_ERROR_CODES)[number];

/**
 * The error every llama-napi operation rejects or throws with. `Code` is the list its `code` comes
 * from: {@link LlamaErrorCode}, or a subclass's own (AiProviderError's).
 */
export class LlamaError<Code extends string = LlamaErrorCode> extends Error {
  override readonly name: string = 'LlamaError';
  readonly code: Code;

  constructor(code: NoInfer<Code>, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

const nativeCodes = new Set<string>(NATIVE_ERROR_CODES);

/**
 * Re-creates an error raised by the addon as a LlamaError at the caller's site (so the stack
 * points at user code); other errors (e.g. thrown by a user's callback) pass through unchanged.
 */
export function fromNative(error: unknown): unknown {
  if (error instanceof LlamaError) return error;
  if (error instanceof Error) {
    const code: unknown = (error as Error & { code?: unknown }).code;
    if (typeof code === 'string' && nativeCodes.has(code)) {
      return new LlamaError(code as LlamaErrorCode, error.message, { cause: error });
    }
  }
  return error;
}

/** Awaits a native promise, re-creating its error as a LlamaError here (see {@link fromNative}). */
export async function native<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    throw fromNative(error);
  }
}

/** Throws `INVALID_OPTION` for option `name`. */
export function invalidOption(name: string, expected: string, value: unknown): never {
  throw new LlamaError('INVALID_OPTION', `${name} must be ${expected} (got ${describe(value)})`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
    return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
