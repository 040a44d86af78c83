// Loads the native addon (a prebuild or build/Release via node-gyp-build) and types it exactly.
// This is the only file that speaks the addon's raw shapes; everything else goes through it.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The error codes the addon raises, in the order of native/core/Errors.h (the addon's `errorCodes`). */
export const NATIVE_ERROR_CODES = [
  'INVALID_ARGUMENT',
  'MODEL_LOAD_FAILED',
  'CONTEXT_CREATE_FAILED',
  'CONTEXT_OVERFLOW',
  'TOKENIZE_FAILED',
  'DECODE_FAILED',
  'SAMPLER_FAILED',
  'INVALID_GRAMMAR',
  'VOCAB_ONLY',
  'BUSY',
  'DISPOSED',
  'ABORTED',
  'UNSUPPORTED',
  'INVALID_LORA',
  'INVALID_DRAFT_MODEL',
  'INVALID_CHAT_TEMPLATE',
  'INVALID_SESSION_FILE',
  'RPC_FAILED',
  'INSUFFICIENT_MEMORY',
  'NATIVE_ERROR',
] as const;

/** An error code the addon raises. */
export type NativeErrorCode = (typeof NATIVE_ERROR_CODES)[number];

/** Why a generation stops, in the order of native/core/StopReason.h (the addon's `stopReasons`). */
export const STOP_REASONS = ['eog', 'maxTokens', 'contextFull', 'abort', 'stop'] as const;

/**
 * The samplers whose order the `samplers` option sets, in llama.cpp's default order (the addon's
 * `samplerNames`); llama-completion's `--samplers` names them penalties, dry, top_n_sigma, top_k,
 * typ_p, top_p, min_p, xtc, temperature.
 */
export const SAMPLER_NAMES = [
  'penalties',
  'dry',
  'topNSigma',
  'topK',
  'typicalP',
  'topP',
  'minP',
  'xtc',
  'temperature',
] as const;

/** A sampler of {@link SAMPLER_NAMES}. */
export type SamplerName = (typeof SAMPLER_NAMES)[number];

/** A flag shared with in-flight native work; `abort()` makes that work stop at its next check. */
export interface NativeAbortToken {
  abort(): void;
  readonly aborted: boolean;
}

/** A memory plan made before a load (llama.cpp's common_fit_params) for the context to come. */
export interface NativeFitOptions {
  /** The context the load is for (contextSize = all sequences' tokens; absent with autoContext or
   *  defaultContextSize). */
  context: NativeContextOptions;
  /** Choose the context size: the largest that fits, up to the training context per sequence. */
  autoContext?: boolean;
  /** Without contextSize: the training context per sequence, at most this many tokens. */
  defaultContextSize?: number;
  /** The smallest context autoContext may shrink to (llama.cpp's --fit-ctx; default 4096). */
  minContextSize?: number;
  /** Bytes each device may use: one entry for every device, or one per device. */
  memoryLimit?: number[];
  /** Bytes to leave free on each device (default 1 GiB). */
  memoryReserve?: number[];
  /** A draft model's path, to plan beside this one. */
  draftModel?: string;
}

/** Bytes one device (or the host) holds for a model (native/core/MemoryFit.h). */
export interface NativeDeviceMemory {
  /** ggml's device name ("CUDA0", "RPC0"); "CPU" for the host. */
  name: string;
  /** The device's own description (an RPC device's: its server, "host:port"). */
  description: string;
  /** Free memory when measured (the host's: as the CPU backend reports it). */
  free: number;
  total: number;
  /** The weights placed there. */
  model: number;
  /** The KV cache and recurrent state. */
  context: number;
  /** The compute buffers. */
  compute: number;
}

/** Memory per device (in llama.cpp's order) and on the host. */
export interface NativeMemoryBreakdown {
  devices: NativeDeviceMemory[];
  host: NativeDeviceMemory;
}

/** estimateMemory()'s answer. */
export interface NativeMemoryEstimate extends NativeMemoryBreakdown {
  fits: boolean;
  reason: string | null;
  gpuLayers: { offloaded: number; total: number };
  /** Tokens of the whole context (all sequences). */
  contextSize: number;
}

/** loadModel()'s options (llama_model_params, camelCase). */
export interface NativeLoadModelOptions {
  /** Layers to offload to a GPU; -1 = all (llama.cpp's default); 'auto' (with fit): as many as fit. */
  gpuLayers?: number | 'auto';
  useMmap?: boolean;
  vocabOnly?: boolean;
  checkTensors?: boolean;
  /** RPC servers ("host:port") whose devices take layers first, as llama.cpp's --rpc. */
  rpcServers?: string[];
  /** llama.cpp's tensor_split: proportions of the layers per device (servers first, then GPUs). */
  tensorSplit?: number[];
  /** Plan the memory first: a plan that cannot fit rejects with INSUFFICIENT_MEMORY. */
  fit?: NativeFitOptions;
}

/** Special token ids of a vocabulary (null where the model has none). */
export interface NativeSpecialTokens {
  bos: number | null;
  eos: number | null;
  eot: number | null;
  sep: number | null;
  nl: number | null;
  pad: number | null;
  /** Every end-of-generation token. */
  eog: number[];
}

/** A model's metadata and hyperparameters, as llama.cpp reports them. */
export interface NativeModelInfo {
  architecture: string;
  description: string;
  parameters: number;
  sizeBytes: number;
  fileType: string;
  contextTrain: number;
  embeddingLength: number;
  layerCount: number;
  headCount: number;
  headCountKv: number;
  hasEncoder: boolean;
  hasDecoder: boolean;
  isRecurrent: boolean;
  vocabOnly: boolean;
  /** Layers on a GPU out of all that can go there (the layers and the output layer, as llama.cpp
   *  counts them): `offloaded` is 0 on a CPU-only build or without a GPU device. */
  gpuLayers: { offloaded: number; total: number };
  /** The context size (all sequences) the load's memory plan chose; 0 without a plan. */
  plannedContextSize: number;
  vocabSize: number;
  vocabType: 'spm' | 'bpe' | 'wpm' | 'ugm' | 'rwkv' | 'plamo2' | 'none' | 'other';
  tokens: NativeSpecialTokens;
  addBos: boolean;
  addEos: boolean;
  chatTemplate: string | null;
  /** GGUF metadata as llama.cpp renders it (arrays are summarized). */
  metadata: Record<string, string>;
}

/** Model.createContext()'s options (llama_context_params, camelCase). */
export interface NativeContextOptions {
  contextSize?: number;
  batchSize?: number;
  ubatchSize?: number;
  threads?: number;
  threadsBatch?: number;
  sequences?: number;
  flashAttention?: boolean | 'auto';
  embeddings?: boolean;
  /** How embeddings pool a sequence ('model': as the model's metadata says). */
  pooling?: 'model' | 'none' | 'mean' | 'cls' | 'last';
  /** Speculative decoding (llama.cpp's common/speculative): a draft model, prompt lookup, or both. */
  speculative?: { draftModel?: NativeModel; lookup?: boolean; maxDraftTokens?: number };
}

/** A context's real sizes (llama.cpp may round what was asked). */
export interface NativeContextInfo {
  /** Tokens of the whole context (all sequences). */
  contextSize: number;
  /** Tokens one sequence holds. */
  sequenceSize: number;
  batchSize: number;
  ubatchSize: number;
  sequences: number;
  threads: number;
  threadsBatch: number;
  pooling: 'none' | 'mean' | 'cls' | 'last' | 'rank';
  /** What the context and its model hold (llama_get_memory_breakdown). */
  memory: NativeMemoryBreakdown;
}

/** Sampler-chain parameters (llama.cpp's defaults where absent). */
export interface NativeSamplingParams {
  /** <= 0: greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  typicalP?: number;
  penaltyLastN?: number;
  repeatPenalty?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  /** 0..2^32-1; 0xFFFFFFFF = random. */
  seed?: number;
  /** <= 0: off. */
  topNSigma?: number;
  dryMultiplier?: number;
  dryBase?: number;
  dryAllowedLength?: number;
  dryPenaltyLastN?: number;
  drySequenceBreakers?: string[];
  xtcProbability?: number;
  xtcThreshold?: number;
  /** 0: off; 1 or 2: Mirostat's version. */
  mirostat?: number;
  mirostatTau?: number;
  mirostatEta?: number;
  /** The order of the samplers. */
  samplers?: SamplerName[];
  logitBias?: Array<[token: number, bias: number]>;
  /** GBNF grammar the output must follow. */
  grammar?: string;
  /** Its start rule (default "root"). */
  grammarRoot?: string;
  /** The grammar constrains nothing until a trigger token or text matching a trigger pattern. */
  grammarLazy?: boolean;
  /** Regular expressions (ECMAScript syntax of std::regex) whose match in the output triggers a lazy grammar. */
  grammarTriggerPatterns?: string[];
  grammarTriggerTokens?: Int32Array | number[];
  /** Tokens the grammar accepts before the first generated one (text the prompt already holds). */
  grammarPrefill?: Int32Array | number[];
  /**
   * A reasoning model's thought (llama.cpp's reasoning budget sampler): it opens with
   * `reasoningStart` and closes with any of `reasoningEnd`. With `reasoningBudget` (≥ 0), once the
   * thought has that many tokens, `reasoningForced` (default: the first closing tag) is written
   * for the model; a lazy grammar waits while the model thinks. `reasoningPrefill`: the tokens the
   * prompt already holds of the answer (a thought the template opened). Generation only.
   */
  reasoningBudget?: number;
  reasoningStart?: Int32Array | number[];
  reasoningEnd?: Array<Int32Array | number[]>;
  reasoningForced?: Int32Array | number[];
  reasoningPrefill?: Int32Array | number[];
}

/**
 * Why generation stopped: an end-of-generation token (`eog`), `maxTokens`, an abort (`abort`), a
 * stop string (`stop`), or a context with no room for the next token (`contextFull`).
 */
export type StopReason = (typeof STOP_REASONS)[number];

/** How long a generation took, and how much of its prompt was evaluated. */
export interface GenerationTimings {
  promptTokens: number;
  /** Prompt tokens whose cache an earlier request left and this one reused (not evaluated again). */
  reusedTokens: number;
  promptMs: number;
  generatedTokens: number;
  generateMs: number;
  /** Speculative decoding: tokens drafted (0 without it) … */
  draftTokens: number;
  /** … and how many of them the model accepted (each one saved a decode step). */
  acceptedTokens: number;
}

/** One generated token and the text it completes, as the generation loop delivers it. */
export interface TokenChunk {
  token: number;
  /** Whole UTF-8 characters only: a character split across tokens arrives with its last token. */
  text: string;
  /**
   * With the `logprobs` option: this token's entry of `result.logprobs`. Absent on a chunk that only
   * releases text held back (a possible stop string, a split character) at the end.
   */
  logprobs?: TokenLogprobs;
}

/** A token and its log-probability under the model's distribution (before any sampler). */
export interface TokenProbability {
  token: number;
  /** The token's piece (a character split across tokens shows as U+FFFD). */
  text: string;
  /** Natural logarithm of its probability: 0 is certain, -Infinity impossible. */
  logprob: number;
}

/** A generated token's probability, and the most likely tokens at that step, most likely first. */
export interface TokenLogprobs extends TokenProbability {
  top: TokenProbability[];
}

/**
 * One generation run by the native loop. The prompt is either `prompt` (text, tokenized by the
 * engine as it admits the request) or `tokens`; sampling, the token limit and stop strings follow.
 */
export interface NativeGenerateRequest {
  /** The prompt's text. */
  prompt?: string;
  /** Add BOS/EOS to `prompt` as the vocabulary asks (default true). */
  addSpecial?: boolean;
  /** Parse special-token text in `prompt` (default true). */
  parseSpecial?: boolean;
  /** The prompt as token ids, instead of `prompt`. */
  tokens?: Int32Array | number[];
  maxTokens?: number;
  /** Render special/control tokens in the text. */
  special?: boolean;
  /** Special tokens whose text is kept without `special` (a chat format's markers). */
  preservedTokens?: Int32Array | number[];
  /** Report each token's log-probability and this many most likely alternatives (0..20). */
  logprobs?: number;
  /** Never sample an end-of-generation token. */
  ignoreEos?: boolean;
  /** At a full context, drop half of the tokens after the kept ones and go on. */
  contextShift?: boolean;
  /** Prompt tokens after BOS a context shift keeps (default 0). */
  contextShiftKeep?: number;
  /** LoRA adapters (ids from `model.loadLora()`) and their scales, applied while this request runs. */
  lora?: Array<[id: number, scale: number]>;
  sampling?: NativeSamplingParams;
  /** Stop when the text contains one of these (not included in the text). */
  stop?: string[];
  /** A chat session's id: the sequence it used last is its own (its conversation's memory stays). */
  affinity?: number;
}

/** A sequence's memory, as saveSequence() reads it and loadSequence() restores it. */
export interface NativeSequenceState {
  /** The tokens the sequence holds (empty: the owner holds no sequence now). */
  tokens: Int32Array;
  /** llama_state_seq_get_data's bytes (empty with no tokens). */
  state: Uint8Array;
  /** The draft model's (speculative decoding), or empty. */
  draftState: Uint8Array;
}

/** What the native generation loop resolves with. */
export interface NativeGenerateResult {
  tokens: Int32Array;
  text: string;
  stopReason: StopReason;
  timings: GenerationTimings;
  /** With `logprobs` in the request: one entry per token. */
  logprobs?: TokenLogprobs[];
}

/** A loaded llama.cpp model: vocabulary operations, metadata and contexts. */
export interface NativeModel {
  info(): NativeModelInfo;
  tokenize(text: string, options?: { addSpecial?: boolean; parseSpecial?: boolean }): Promise<Int32Array>;
  detokenize(
    tokens: Int32Array | number[],
    options?: { removeSpecial?: boolean; unparseSpecial?: boolean },
  ): Promise<string>;
  tokenToPiece(tokens: Int32Array | number[], options?: { special?: boolean }): Promise<Uint8Array[]>;
  isEog(token: number): boolean;
  createContext(options?: NativeContextOptions): Promise<NativeContext>;
  /** Runs `tokens` through llama.cpp's grammar engine: how many it accepts in a row, and whether
   *  the grammar can end right after all of them. */
  grammarMatch(
    grammar: string,
    tokens: Int32Array | number[],
    options?: { root?: string },
  ): Promise<{ accepted: number; complete: boolean }>;
  /** Loads a LoRA adapter for this model (kept until the model is freed); resolves with its id. */
  loadLora(path: string): Promise<number>;
  /** Formats a conversation with llama.cpp's chat layer (common/chat); JSON text in and out. */
  applyChat(request: string): Promise<string>;
  /** Parses generated text with the parser applyChat made; JSON text in and out. */
  parseChat(text: string, options: string): Promise<string>;
  dispose(): void;
  readonly disposed: boolean;
}

/**
 * A llama.cpp context (KV cache, thread pool) of a model: decode, sample, generate, embed, memory operations.
 * One raw operation at a time.
 */
export interface NativeContext {
  decode(
    tokens: Int32Array | number[],
    options?: { seqId?: number; logitsAll?: boolean },
    abort?: NativeAbortToken | null,
  ): Promise<void>;
  sample(sampler: NativeSampler, options?: { index?: number }): Promise<number>;
  generate(
    request: NativeGenerateRequest,
    onToken?: ((chunk: TokenChunk) => void) | null,
    abort?: NativeAbortToken | null,
  ): Promise<NativeGenerateResult>;
  /** The memory of the sequence `affinity` owns, read on the engine between its steps. */
  saveSequence(affinity: number): Promise<NativeSequenceState>;
  /** Restores a saved sequence into a free sequence, which `affinity` then owns; INVALID_SESSION_FILE
   *  when llama.cpp refuses the state. */
  loadSequence(
    affinity: number,
    saved: {
      tokens: Int32Array | number[];
      state: Uint8Array;
      draftState?: Uint8Array;
      lora?: Array<[number, number]>;
    },
  ): Promise<NativeSequenceState>;
  /** The owner is gone: its sequence is anyone's. */
  releaseSequence(affinity: number): void;
  /** The embedding of `tokens` (context created with embeddings: true): pooled, L2-normalized by default. */
  embed(tokens: Int32Array | number[], options?: { normalize?: boolean }): Promise<Float32Array>;
  memoryClear(): void;
  memorySeqRemove(options?: { seqId?: number; from?: number; to?: number }): boolean;
  memorySeqPosMax(options?: { seqId?: number }): number;
  info(): NativeContextInfo;
  /**
   * llama.cpp's own counters for this context (llama_synchronize, then llama_perf_context): throws BUSY while an
   * operation runs.
   */
  perf(): NativeContextPerf;
  dispose(): void;
  readonly disposed: boolean;
}

/**
 * llama.cpp's performance counters of a context, as its tools print them. `loadMs` is its "load
 * time": from the start of the model's load (after the GGUF file was parsed) to the end of this
 * context's first decode.
 */
export interface NativeContextPerf {
  loadMs: number;
  /** Batches of more than one token (prompt evaluation). */
  promptMs: number;
  promptTokens: number;
  /** Single-token decodes (generation). */
  evalMs: number;
  evalTokens: number;
  /** Decodes that reused the previous compute graph. */
  reusedGraphs: number;
}

/** llama.cpp's sampler chain, built from sampling options: sample, accept, reset. */
export interface NativeSampler {
  accept(token: number): void;
  reset(): void;
  readonly seed: number;
  dispose(): void;
  readonly disposed: boolean;
}

/** A device ggml can compute on (ggml_backend_dev_*). */
export interface NativeDevice {
  name: string;
  description: string;
  type: 'cpu' | 'gpu' | 'igpu' | 'accelerator' | 'other';
  /** The backend that drives it: "CPU", "CUDA", "Vulkan", … */
  backend: string;
  memoryTotal: number;
  memoryFree: number;
  /** The file the backend's code was loaded from (a libggml-cpu-<variant>.so module, or the addon). */
  library: string;
}

/** The raw addon, one-to-one with llama.cpp's C API where it can be. */
export interface NativeAddon {
  AbortToken: new () => NativeAbortToken;
  Sampler: new (model: NativeModel, params?: NativeSamplingParams) => NativeSampler;
  initBackend(): Promise<void>;
  loadModel(
    path: string,
    options?: NativeLoadModelOptions,
    onProgress?: ((fraction: number) => void) | null,
    abort?: NativeAbortToken | null,
  ): Promise<NativeModel>;
  /** A load's memory plan without its weights (options.fit required). */
  estimateMemory(path: string, options: NativeLoadModelOptions): Promise<NativeMemoryEstimate>;
  systemInfo(): string;
  /** llama.cpp's built-in formatting of a chat for the template families it recognizes (by the
   *  template text or a name such as "chatml"); null when it does not recognize the template. */
  applyChatTemplate(
    template: string,
    messages: ReadonlyArray<{ role: string; content: string }>,
    addAssistant: boolean,
  ): string | null;
  supportsGpuOffload(): boolean;
  /** Every device ggml can use (initializes the backends first, on the calling thread). */
  devices(): NativeDevice[];
  /** The devices the RPC servers at `endpoints` serve (asked over the network; RPC_FAILED when one
   *  cannot be reached). */
  rpcDevices(endpoints: string[]): Promise<NativeDevice[]>;
  supportsMmap(): boolean;
  /**
   * ggml's RPC server for this machine's devices (`devices`: ggml's device names; default its GPUs,
   * else the CPU) at `endpoint` ("host:port"), on a thread of its own for the life of the process:
   * run it in a process of its own (startRpcServer does). Rejects with RPC_FAILED only if the server
   * stops (its address could not be bound, say); an unknown device is INVALID_ARGUMENT.
   */
  rpcServe(endpoint: string, options: { threads?: number; cacheDir?: string; devices?: string[] }): Promise<never>;
  /** Native handles made and freed so far, per kind (process-wide): made − freed are alive. */
  stats(): Record<'models' | 'contexts' | 'samplers' | 'engines' | 'channels', { made: number; freed: number }>;
  /** Disposes every context and waits for native work to leave llama.cpp (called at process exit). */
  shutdown(): void;
  /** Sets the threshold of llama.cpp's log output, by rank: 0 debug, 1 info, 3 warn, 4 error, 5 none. */
  setLogLevel(rank: 0 | 1 | 3 | 4 | 5): void;
  logLevel(): 0 | 1 | 3 | 4 | 5;
  /** Whole log lines at or above the threshold go to `logger` (on the main thread, asynchronously)
   *  instead of stderr; null restores stderr. */
  setLogger(logger: ((level: 'debug' | 'info' | 'warn' | 'error', message: string) => void) | null): void;
  readonly errorCodes: readonly NativeErrorCode[];
  readonly stopReasons: readonly StopReason[];
  readonly samplerNames: readonly SamplerName[];
  readonly versions: {
    llamaCpp: string;
    llamaCppCommit: string;
    napi: number;
    /** The GPU backend compiled in (LLAMA_NAPI_GPU). */
    gpu: 'off' | 'cuda' | 'vulkan';
    /** A portable build whose CPU backend is picked at run time among per-feature-level variants. */
    cpuVariants: boolean;
  };
}

/** The package root (holds package.json, build/ and prebuilds/), from lib/ or dist/. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

let loaded: NativeAddon | undefined;

/**
 * Loads the addon once (lazily, so importing the package costs nothing until first use): the file
 * named by LLAMA_NAPI_ADDON if set (a custom build), else a prebuild or build/Release.
 */
export function addon(): NativeAddon {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url);
    const custom = process.env.LLAMA_NAPI_ADDON;
    if (custom) {
      loaded = require(custom) as NativeAddon;
    } else {
      const load = require('node-gyp-build') as (dir: string) => unknown;
      loaded = load(packageRoot) as NativeAddon;
    }
    // process.exit() runs no Node-API cleanup hook of the main thread: stop native work here, so
    // exit neither waits out a long decode nor tears the process down under a running one.
    const addonForExit = loaded;
    process.once('exit', () => addonForExit.shutdown());
  }
  return loaded;
}
