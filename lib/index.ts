// llama-napi: run GGUF language models in-process from Node.js.
export {
  LlamaModel,
  type DetokenizeOptions,
  type GenerateOptions,
  type GenerateResult,
  type LoadOptions,
  type ModelInfo,
  type StopReason,
  type TokenChunk,
  type TokenizeOptions,
} from './LlamaModel.js';
export { LLAMA_ERROR_CODES, LlamaError, type LlamaErrorCode } from './errors.js';
