// llama-napi: run GGUF language models in-process from Node.js.
export {
  LlamaModel,
  type ChatOptions,
  type ChatChunk,
  type ChatResult,
  type JsonChatResult,
  type DetokenizeOptions,
  type FormatChatModelOptions,
  type LoadOptions,
  type LoraAdapter,
  type ModelInfo,
  type SpeculativeOptions,
  type TokenizeOptions,
} from './LlamaModel.js';
export type {
  DryOptions,
  GenerateOptions,
  MirostatOptions,
  SamplingOptions,
  XtcOptions,
} from './generation/generate-options.js';
export { SAMPLER_NAMES, type SamplerName } from './binding.js';
export type {
  GenerateResult,
  GenerationTimings,
  JsonGenerateResult,
  StopReason,
  TokenChunk,
  TokenLogprobs,
  TokenProbability,
} from './generation/result.js';
export { TokenStream } from './generation/stream.js';
export { formatChat, type ChatMessage, type FormatChatOptions } from './generation/chat.js';
export type { ChatTool, ToolCall, ToolChoice } from './generation/chat-layer.js';
export {
  ChatSession,
  type ChatInput,
  type ChatSendOptions,
  type ChatSessionOptions,
  type SessionTool,
  type ToolHandler,
  type ToolHandlerContext,
} from './ChatSession.js';
export { jsonSchemaToGrammar, type JsonSchema } from './generation/json-schema.js';
export type { FromJsonSchema } from './generation/schema-type.js';
export {
  buildInfo,
  listDevices,
  supportsGpuOffload,
  type BuildInfo,
  type Device,
  type ListDevicesOptions,
} from './system.js';
export {
  estimateMemory,
  type DeviceMemory,
  type EstimateMemoryOptions,
  type MemoryBreakdown,
  type MemoryEstimate,
  type MemoryOptions,
} from './memory.js';
export { defaultModelsDir, downloadModel, type DownloadOptions, type DownloadProgress } from './download.js';
export { startRpcServer, type RpcServer, type RpcServerOptions } from './rpc.js';
export { getLogLevel, setLogLevel, setLogger, type LogLevel, type Logger } from './logging.js';
export { LLAMA_ERROR_CODES, LlamaError, type LlamaErrorCode } from './errors.js';
export * from './provider/index.js';
