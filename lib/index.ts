// llama-napi: run GGUF language models in-process from Node.js.
export {
  LlamaModel,
  type DetokenizeOptions,
  type GenerateResult,
  type LoadOptions,
  type ModelInfo,
  type StopReason,
  type TokenizeOptions,
} from './LlamaModel.js';
export type { GenerateOptions, SamplingOptions, TokenChunk } from './generation/options.js';
export { TokenStream } from './generation/stream.js';
export { LLAMA_ERROR_CODES, LlamaError, type LlamaErrorCode } from './errors.js';
