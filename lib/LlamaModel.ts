// LlamaModel: a loaded GGUF model with its context — load, tokenize, detokenize, generate, dispose.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import {
  addon,
  type NativeAbortToken,
  type NativeContext,
  type NativeContextInfo,
  type NativeGenerateRequest,
  type NativeModel,
  type NativeModelInfo,
  type NativeSamplingParams,
  type StopReason,
} from './binding.js';
import { ChatSession, type ChatSessionOptions, type SessionHost } from './ChatSession.js';
import { LlamaError, fromNative, invalidOption, native } from './errors.js';
import { downloadModel, type DownloadProgress } from './download.js';
import { checkModelFile } from './gguf/check-file.js';
import { checkMessages, formatChat, type ChatMessage } from './generation/chat.js';
import {
  ChatDeltas,
  applyChat,
  checkTools,
  formatSampling,
  isTemplateName,
  parseChat,
  parsePartialChat,
  type ChatLayerRequest,
  type ChatTool,
  type ToolCall,
  type ToolChoice,
} from './generation/chat-layer.js';
import { parseJsonOutput } from './generation/json-output.js';
import { fileSha256 } from './generation/session-file.js';
import type { JsonSchema } from './generation/json-schema.js';
import type { FromJsonSchema } from './generation/schema-type.js';
import { parseGenerateOptions, type GenerateOptions } from './generation/generate-options.js';
import type { GenerateResult, JsonGenerateResult, TokenChunk } from './generation/result.js';
import { TokenStream } from './generation/stream.js';
import {
  optionalBoolean,
  optionalInteger,
  optionalFunction,
  optionalLimited,
  optionalNumber,
  optionalSignal,
  optionsObject,
  rejectUnknown,
} from './option-checks.js';
import { isRemoteSource } from './hub.js';
import {
  MEMORY_OPTIONS,
  memoryBreakdown,
  nativeLoadOptions,
  parsePlacement,
  tensorSplitOption,
  type MemoryBreakdown,
  type MemoryOptions,
} from './memory.js';
import { checkRpcServers } from './rpc.js';
import { defaultThreads } from './threads.js';

/** Options of {@link LlamaModel.load}: those that decide memory ({@link MemoryOptions}), and these. */
export interface LoadOptions extends MemoryOptions {
  /** CPU threads. Default: the physical cores available to the process. */
  threads?: number;
  /** Load only the vocabulary: tokenize/detokenize work, generation does not. Default false. */
  vocabOnly?: boolean;
  /** Memory-map the file (default true where supported). */
  useMmap?: boolean;
  /** Called with the loaded fraction, 0 to 1. */
  onProgress?: (fraction: number) => void;
  /** Aborts the load (and a download): the promise rejects with a LlamaError `ABORTED`. */
  signal?: AbortSignal;
  /**
   * Called as an `hf:` or https source downloads (see {@link downloadModel}), before the load's
   * own `onProgress`; a path source has nothing to download.
   */
  onDownloadProgress?: (progress: DownloadProgress) => void;
  /** LoRA adapters to generate with, as {@link LlamaModel.setLora} takes them. */
  lora?: readonly LoraAdapter[];
  /**
   * Speculative decoding: tokens are drafted cheaply, then the model checks a whole draft in one
   * batch and keeps the part it would have generated itself. The output is exactly what plain
   * decoding gives (the same text, greedy or sampled with a seed); only the speed changes.
   */
  speculative?: SpeculativeOptions;
}

/** How {@link LoadOptions.speculative} drafts tokens: a draft model, prompt lookup, or both. */
export interface SpeculativeOptions {
  /**
   * A smaller GGUF model with the same vocabulary, which drafts the next tokens. It is loaded
   * beside this one (its own context as large as this one's; with `gpuLayers` 'auto' every layer on
   * the devices, and the plan counts it; else the same `gpuLayers`).
   */
  draftModel?: string;
  /**
   * Prompt lookup: when the last tokens occurred earlier in the sequence (the prompt or the output),
   * draft what followed them there. Costs nothing where nothing repeats; fast where the output
   * copies its input (extraction, rewriting, code edits).
   */
  lookup?: boolean;
  /** Most tokens drafted per step and sequence. Default: 16 for lookup, llama.cpp's default for a draft model. */
  maxDraftTokens?: number;
}

/** A LoRA adapter (a GGUF file made for this model) and how strongly it applies. */
export interface LoraAdapter {
  path: string;
  /** Its weight: 1 applies it as trained, 0 not at all. Default 1. */
  scale?: number;
}

/** Options of {@link LlamaModel.tokenize}. */
export interface TokenizeOptions {
  /** Add the model's BOS/EOS as its vocabulary asks. Default true. */
  addSpecial?: boolean;
  /** Parse special-token text such as `<|im_start|>` into its token. Default false. */
  parseSpecial?: boolean;
}

/** Options of {@link LlamaModel.detokenize}. */
export interface DetokenizeOptions {
  /** Drop the BOS/EOS the vocabulary adds. Default false. */
  removeSpecial?: boolean;
  /** Render special tokens as their text. Default false. */
  unparseSpecial?: boolean;
}

/** A chunk of chat()'s stream: the raw token and text, and what it adds to the answer and the thought. */
export interface ChatChunk extends TokenChunk {
  /** What this chunk adds to the answer's `text` (nothing while the model thinks or writes a tool call). */
  content: string;
  /** What this chunk adds to the thought (`reasoning`). */
  reasoning: string;
}

/** Options of {@link LlamaModel.chat}: those of generate(), the template, tools and thinking. */
export interface ChatOptions extends Omit<GenerateOptions, 'onToken'> {
  /**
   * Called with each chunk as it is generated: its raw `text`, and the `content` and `reasoning` it
   * adds, as llama.cpp's parser for the template reads the text so far.
   */
  onToken?: (chunk: ChatChunk) => void;
  /** A Jinja chat template or a llama.cpp template name ("chatml", "llama3", …). Default: the model's own. */
  template?: string;
  /** Functions the model may call (a Jinja template is needed). */
  tools?: readonly ChatTool[];
  /** Default 'auto': the model calls tools or answers, as it chooses. */
  toolChoice?: ToolChoice;
  /** Whether the model may make several calls at once. Default: where the template supports it. */
  parallelToolCalls?: boolean;
  /**
   * Whether a reasoning model thinks first (its template's `enable_thinking`). Default true, and
   * false with `jsonSchema` or `grammar`, which apply from the first token.
   */
  thinking?: boolean;
  /**
   * The most tokens a thought may take: once it has that many, its closing tag is written for the
   * model and the answer follows (llama.cpp's reasoning budget; 0 closes the thought at once). No
   * effect where the template has no thought. Default: no limit.
   */
  thinkingBudget?: number;
  /** Further variables the template reads (llama-server's `chat_template_kwargs`). */
  templateVariables?: Record<string, unknown>;
}

/** The options of chat() that shape its prompt. */
type ChatFormatting = Pick<
  ChatOptions,
  'template' | 'tools' | 'toolChoice' | 'parallelToolCalls' | 'thinking' | 'templateVariables'
>;
const CHAT_FORMAT_KEYS = ['template', 'tools', 'toolChoice', 'parallelToolCalls', 'thinking', 'templateVariables'];
/** The options of chat() that generate() has not. */
const CHAT_KEYS = [...CHAT_FORMAT_KEYS, 'thinkingBudget'];

/** Options of {@link LlamaModel.formatChat}: chat()'s formatting options, and whether to open the answer. */
export interface FormatChatModelOptions extends ChatFormatting {
  /** Add the opening of the assistant's turn (default true). */
  addGenerationPrompt?: boolean;
}

/** What chat() resolves with: the answer's text, the model's thought apart, and its tool calls. */
export interface ChatResult extends Omit<GenerateResult, 'stopReason'> {
  /** The answer, without the thought or the tool calls' markup. */
  text: string;
  /** The thought of a reasoning model, when it had one. */
  reasoning?: string;
  /** The tools it called, arguments parsed and checked against each tool's parameters. */
  toolCalls: ToolCall[];
  /** `'toolCalls'` when the answer ends with tool calls. */
  stopReason: StopReason | 'toolCalls';
}

/** chat() with a JSON schema: `json` is the parsed, validated answer. */
export interface JsonChatResult<T> extends ChatResult {
  json: T;
}

/** A chat call checked and formatted: its generation, how to read its answer, where its chunks go. */
interface ChatPlan {
  prepared: PreparedGeneration;
  finish: (result: GenerateResult) => Promise<ChatResult>;
  /** The answer and thought in text still being written (none: the text is the answer). */
  parse?: (text: string) => Promise<{ content: string; reasoning: string }>;
  onToken?: (chunk: ChatChunk) => void;
}

/** A generation checked and ready to run (or to abort). */
interface PreparedGeneration {
  run: (onToken?: (chunk: TokenChunk) => void) => Promise<GenerateResult>;
  abort: () => void;
}

/** What a chat request adds to the generation the chat layer formatted. */
interface ChatExtras {
  sampling: NativeSamplingParams;
  preservedTokens: number[];
  stop: string[];
}

/** What llama.cpp knows of a loaded model. */
export interface ModelInfo extends Omit<NativeModelInfo, 'chatTemplate' | 'plannedContextSize'> {
  /** The model's Jinja chat template, when its file has one. */
  chatTemplate?: string;
  /** The LoRA adapters generations start with now (resolved paths), in order. */
  lora: ReadonlyArray<Readonly<Required<LoraAdapter>>>;
  /** What the model and its context took when loaded, per device and on the host (bytes, from
   *  llama.cpp's buffers); null for a vocabulary-only model. */
  memory: MemoryBreakdown | null;
}

const LOAD_OPTIONS = [
  ...MEMORY_OPTIONS,
  'threads',
  'vocabOnly',
  'useMmap',
  'onProgress',
  'signal',
  'onDownloadProgress',
  'lora',
  'speculative',
] as const;
const TOKENIZE_OPTIONS = ['addSpecial', 'parseSpecial'] as const;
const DETOKENIZE_OPTIONS = ['removeSpecial', 'unparseSpecial'] as const;

/** Checks a list of LoRA adapters: paths resolved, scales finite (default 1). */
function parseLora(value: unknown): Array<{ path: string; scale: number }> {
  if (!Array.isArray(value)) invalidOption('lora', 'an array of { path, scale? }', value);
  return value.map((entry: unknown, i) => {
    const adapter = optionsObject<LoraAdapter>(`lora[${i}]`, entry);
    rejectUnknown(`lora[${i}]`, adapter, ['path', 'scale']);
    if (typeof adapter.path !== 'string' || adapter.path.length === 0) {
      invalidOption(`lora[${i}].path`, 'a non-empty string', adapter.path);
    }
    const scale = optionalNumber(`lora[${i}].scale`, adapter.scale, -1e6, 1e6) ?? 1;
    return { path: resolve(adapter.path), scale };
  });
}

/** Checks {@link LoadOptions.speculative}; the draft model's path comes back resolved. */
export function parseSpeculative(value: unknown): { draftModel?: string; lookup: boolean; maxDraftTokens?: number } {
  const spec = optionsObject<SpeculativeOptions>('speculative', value);
  rejectUnknown('speculative', spec, ['draftModel', 'lookup', 'maxDraftTokens']);
  if (spec.draftModel !== undefined && (typeof spec.draftModel !== 'string' || spec.draftModel.length === 0)) {
    invalidOption('speculative.draftModel', 'a non-empty string', spec.draftModel);
  }
  const lookup = optionalBoolean('speculative.lookup', spec.lookup) ?? false;
  if (spec.draftModel === undefined && !lookup) {
    throw new LlamaError('INVALID_OPTION', 'speculative needs a draftModel, lookup: true, or both');
  }
  const maxDraftTokens = optionalLimited('maxDraftTokens', spec.maxDraftTokens, 'speculative.maxDraftTokens');
  return {
    ...(spec.draftModel === undefined ? {} : { draftModel: resolve(spec.draftModel) }),
    lookup,
    ...(maxDraftTokens === undefined ? {} : { maxDraftTokens }),
  };
}

function aborted(what: string): LlamaError {
  return new LlamaError('ABORTED', `${what} was aborted`);
}

/** Calls `onAbort` when `signal` fires; returns the function that stops listening. */
function onSignal(signal: AbortSignal | undefined, token: NativeAbortToken): () => void {
  if (signal === undefined) return () => {};
  const listener = () => token.abort();
  signal.addEventListener('abort', listener, { once: true });
  if (signal.aborted) token.abort();
  return () => signal.removeEventListener('abort', listener);
}

/**
 * A GGUF model loaded in-process, with one context for generation.
 *
 * ```ts
 * await using model = await LlamaModel.load('model.gguf', { contextSize: 2048 });
 * const { text } = await model.generate('Once upon a time', { maxTokens: 32, temperature: 0 });
 * ```
 * Concurrent generations share the model: up to `sequences` of them are batched into the same
 * decodes, and the rest wait their turn. Every method rejects with a {@link LlamaError}
 * (`DISPOSED`) once {@link LlamaModel.dispose} has been called.
 */
export class LlamaModel {
  /** The resolved path the model was loaded from. */
  readonly path: string;
  #info: ModelInfo;
  /** Adapters loaded so far, by resolved path: their ids. */
  readonly #adapters = new Map<string, Promise<number>>();
  /** What the next generation applies: [adapter id, scale]. */
  #lora: Array<[number, number]> = [];
  readonly #model: NativeModel;
  readonly #context: NativeContext | null;
  readonly #contextSize: number;
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #abortTokens = new Set<NativeAbortToken>();
  #disposal: Promise<void> | undefined;
  /** Text of the BOS and EOS tokens, for chat templates that write them. */
  readonly #specialText: { bos: string; eos: string };
  readonly #threads: number;
  /** The context for embed(), made on first use; calls run one after another on it. */
  #embedding: Promise<NativeContext> | undefined;
  #embedQueue: Promise<unknown> = Promise.resolve();
  /** Chat sessions' sequence owner ids. */
  #nextAffinity = 1;
  #fileHash: Promise<{ sha256: string; size: number }> | undefined;
  #host: SessionHost | undefined;

  private constructor(
    path: string,
    model: NativeModel,
    context: NativeContext | null,
    contextSize: number,
    memory: MemoryBreakdown | null,
    specialText: { bos: string; eos: string },
    threads: number,
  ) {
    this.path = path;
    this.#threads = threads;
    this.#model = model;
    this.#context = context;
    this.#contextSize = contextSize;
    this.#specialText = specialText;
    const { chatTemplate, plannedContextSize: _planned, ...info } = model.info();
    this.#info = Object.freeze({
      ...info,
      ...(chatTemplate === null ? {} : { chatTemplate }),
      lora: Object.freeze([]),
      memory,
    });
  }

  /** What llama.cpp knows of the model, and the LoRA adapters generations start with. */
  get info(): ModelInfo {
    return this.#info;
  }

  /**
   * The LoRA adapters generations apply from now on (none: `[]`). Requests already running finish
   * with the adapters they started with; a request with other adapters waits until they have.
   * Adapters load once per model and stay loaded until it is disposed. Rejects with `INVALID_LORA`
   * for a file llama.cpp cannot use with this model (not an adapter, another architecture, other
   * tensor shapes), leaving the adapters as they were.
   */
  async setLora(adapters: readonly LoraAdapter[]): Promise<void> {
    this.#assertLive();
    if (this.#context === null)
      throw new LlamaError('VOCAB_ONLY', 'the model was loaded with vocabOnly: it takes no LoRA adapter');
    const wanted = parseLora(adapters);
    const ids = await this.#track(Promise.all(wanted.map(({ path }) => this.#loadAdapter(path))));
    this.#assertLive();
    this.#lora = wanted.map(({ scale }, i) => [ids[i]!, scale]);
    this.#info = Object.freeze({ ...this.#info, lora: Object.freeze(wanted.map((adapter) => Object.freeze(adapter))) });
  }

  #loadAdapter(path: string): Promise<number> {
    let id = this.#adapters.get(path);
    if (id === undefined) {
      id = (async () => {
        if (!existsSync(path)) throw new LlamaError('MODEL_NOT_FOUND', `no LoRA adapter at ${path}`);
        return native(this.#model.loadLora(path));
      })();
      // A failed load is not kept: the next call tries again.
      id.catch(() => this.#adapters.delete(path));
      this.#adapters.set(path, id);
    }
    return id;
  }

  /**
   * Loads a GGUF model and creates its context. `source` is a file's path, or a model to download
   * on first use into the default folder, as {@link downloadModel} takes it: `hf:OWNER/REPO:QUANT`,
   * `hf:OWNER/REPO/FILE.gguf` or an https URL (the path is then the downloaded file's).
   */
  static async load(source: string, options: LoadOptions = {}): Promise<LlamaModel> {
    if (typeof source !== 'string' || source.length === 0) {
      throw new LlamaError('INVALID_ARGUMENT', 'path must be a non-empty string');
    }
    const opts = optionsObject<LoadOptions>('options', options);
    rejectUnknown('LlamaModel.load options', opts, LOAD_OPTIONS);
    const placement = parsePlacement(opts);
    const { sequences, rpcServers } = placement;
    const threads = optionalLimited('threads', opts.threads) ?? defaultThreads();
    const vocabOnly = optionalBoolean('vocabOnly', opts.vocabOnly) ?? false;
    const useMmap = optionalBoolean('useMmap', opts.useMmap) ?? true;
    const onProgress = optionalFunction<(fraction: number) => void>('onProgress', opts.onProgress);
    const signal = optionalSignal('signal', opts.signal);
    const onDownloadProgress = optionalFunction<(progress: DownloadProgress) => void>(
      'onDownloadProgress',
      opts.onDownloadProgress,
    );
    if (signal?.aborted) throw aborted('loading the model');
    const lora = opts.lora === undefined ? [] : parseLora(opts.lora);
    if (vocabOnly && lora.length > 0) throw new LlamaError('INVALID_OPTION', 'lora cannot be used with vocabOnly');
    const speculative = opts.speculative === undefined ? undefined : parseSpeculative(opts.speculative);
    if (vocabOnly && speculative !== undefined) {
      throw new LlamaError('INVALID_OPTION', 'speculative cannot be used with vocabOnly');
    }
    if (speculative?.draftModel !== undefined) await checkModelFile(speculative.draftModel);
    if (vocabOnly && rpcServers.length > 0) {
      throw new LlamaError('INVALID_OPTION', 'rpcServers cannot be used with vocabOnly');
    }

    const path = isRemoteSource(source)
      ? await downloadModel(source, {
          ...(signal === undefined ? {} : { signal }),
          ...(onDownloadProgress === undefined ? {} : { onProgress: onDownloadProgress }),
        })
      : source;
    const resolved = resolve(path);
    await checkModelFile(resolved);
    await checkRpcServers('rpcServers', rpcServers, 'MODEL_LOAD_FAILED', `cannot load ${resolved}: `);
    const raw = addon();
    await native(raw.initBackend());

    const token = new raw.AbortToken();
    const stopListening = onSignal(signal, token);
    let model: NativeModel;
    try {
      const loadOptions = vocabOnly
        ? { gpuLayers: 0, useMmap, vocabOnly: true }
        : nativeLoadOptions(placement, threads, { useMmap, draftModel: speculative?.draftModel });
      model = await native(raw.loadModel(resolved, loadOptions, onProgress ?? null, token)).catch(tensorSplitOption);
    } finally {
      stopListening();
    }
    const { bos, eos } = model.info().tokens;
    const ids = [bos, eos].map((id) => id ?? -1).filter((id) => id >= 0);
    const pieces = ids.length > 0 ? await native(model.tokenToPiece(ids, { special: true })) : [];
    const text = (id: number | null) =>
      id === null ? '' : Buffer.from(pieces[ids.indexOf(id)] ?? []).toString('utf8');
    const specialText = { bos: text(bos), eos: text(eos) };
    if (vocabOnly) return new LlamaModel(resolved, model, null, 0, null, specialText, threads);

    // The memory plan chose the context size (or kept the one asked for).
    const total = model.info().plannedContextSize;
    const gpuLayers = placement.gpuLayers === 'auto' ? -1 : placement.gpuLayers;
    let draftModel: NativeModel | undefined;
    try {
      if (speculative?.draftModel !== undefined) {
        const draftToken = new raw.AbortToken();
        const stopDraft = onSignal(signal, draftToken);
        try {
          draftModel = await native(
            raw.loadModel(speculative.draftModel, { gpuLayers, useMmap, vocabOnly: false }, null, draftToken),
          );
        } finally {
          stopDraft();
        }
      }
      const context = await native(
        model.createContext({
          contextSize: total,
          sequences,
          batchSize: Math.min(placement.batchSize ?? 512, total),
          threads,
          threadsBatch: threads,
          flashAttention: placement.flashAttention,
          ...(speculative === undefined
            ? {}
            : {
                speculative: {
                  lookup: speculative.lookup,
                  ...(draftModel === undefined ? {} : { draftModel }),
                  ...(speculative.maxDraftTokens === undefined ? {} : { maxDraftTokens: speculative.maxDraftTokens }),
                },
              }),
        }),
      );
      // The context holds the draft model from here (it frees it with itself).
      draftModel?.dispose();
      draftModel = undefined;
      if (signal?.aborted) {
        context.dispose();
        throw aborted('loading the model');
      }
      // A synchronous call: its error (RPC_FAILED, a server lost meanwhile) re-created here too.
      let contextInfo: NativeContextInfo;
      try {
        contextInfo = context.info();
      } catch (error) {
        throw fromNative(error);
      }
      const loaded = new LlamaModel(
        resolved,
        model,
        context,
        contextInfo.sequenceSize,
        memoryBreakdown(contextInfo.memory),
        specialText,
        threads,
      );
      if (lora.length > 0) {
        try {
          await loaded.setLora(lora);
        } catch (error) {
          await loaded.dispose();
          throw error;
        }
      }
      return loaded;
    } catch (error) {
      draftModel?.dispose();
      model.dispose();
      throw error;
    }
  }

  /** Tokens one request may hold (0 for a vocabulary-only model); llama.cpp rounds up to 256s. */
  get contextSize(): number {
    return this.#contextSize;
  }

  /** True once {@link LlamaModel.dispose} has been called. */
  get disposed(): boolean {
    return this.#disposal !== undefined;
  }

  /** Text → token ids. */
  async tokenize(text: string, options: TokenizeOptions = {}): Promise<number[]> {
    this.#assertLive();
    if (typeof text !== 'string') throw new LlamaError('INVALID_ARGUMENT', 'text must be a string');
    const opts = optionsObject<TokenizeOptions>('options', options);
    rejectUnknown('tokenize options', opts, TOKENIZE_OPTIONS);
    const addSpecial = optionalBoolean('addSpecial', opts.addSpecial) ?? true;
    const parseSpecial = optionalBoolean('parseSpecial', opts.parseSpecial) ?? false;
    return Array.from(await this.#track(native(this.#model.tokenize(text, { addSpecial, parseSpecial }))));
  }

  /** Token ids → text. */
  async detokenize(tokens: readonly number[] | Int32Array, options: DetokenizeOptions = {}): Promise<string> {
    this.#assertLive();
    if (!Array.isArray(tokens) && !(tokens instanceof Int32Array)) {
      throw new LlamaError('INVALID_ARGUMENT', 'tokens must be an array of token ids or an Int32Array');
    }
    const opts = optionsObject<DetokenizeOptions>('options', options);
    rejectUnknown('detokenize options', opts, DETOKENIZE_OPTIONS);
    const removeSpecial = optionalBoolean('removeSpecial', opts.removeSpecial) ?? false;
    const unparseSpecial = optionalBoolean('unparseSpecial', opts.unparseSpecial) ?? false;
    const ids = tokens instanceof Int32Array ? tokens : [...tokens];
    return this.#track(native(this.#model.detokenize(ids, { removeSpecial, unparseSpecial })));
  }

  /**
   * Generates a continuation of `prompt`. Concurrent calls share the model: up to `sequences` run
   * batched together, the rest wait their turn.
   */
  async generate<T = never, const S extends JsonSchema = JsonSchema>(
    prompt: string,
    options: GenerateOptions & { jsonSchema: S },
  ): Promise<JsonGenerateResult<[T] extends [never] ? FromJsonSchema<S> : T>>;
  async generate(prompt: string, options?: GenerateOptions): Promise<GenerateResult>;
  async generate(prompt: string, options: GenerateOptions = {}): Promise<GenerateResult> {
    return this.#prepare(prompt, options).run();
  }

  /**
   * Streams a continuation of `prompt`: `for await (const { text } of model.stream(prompt))`.
   * Breaking out of the loop stops the generation; `.result` has the whole result.
   */
  stream(prompt: string, options: Omit<GenerateOptions, 'onToken'> = {}): TokenStream {
    if (options !== null && typeof options === 'object' && 'onToken' in options) {
      throw new LlamaError('INVALID_OPTION', 'stream() takes no onToken: iterate the stream instead');
    }
    const { run, abort } = this.#prepare(prompt, options);
    return new TokenStream((push) => run(push), abort);
  }

  /**
   * The embedding of `text`: pooled over its tokens (as the model's metadata says, else the mean)
   * and L2-normalized unless `normalize: false`. Texts longer than the context are CONTEXT_OVERFLOW.
   */
  async embed(text: string, options: { normalize?: boolean } = {}): Promise<Float32Array> {
    this.#assertLive();
    if (typeof text !== 'string') throw new LlamaError('INVALID_ARGUMENT', 'text must be a string');
    const opts = optionsObject<{ normalize?: boolean }>('options', options);
    rejectUnknown('embed options', opts, ['normalize']);
    const normalize = optionalBoolean('normalize', opts.normalize) ?? true;
    if (this.#context === null)
      throw new LlamaError('VOCAB_ONLY', 'the model was loaded with vocabOnly: it cannot embed');
    const tokens = await this.#track(native(this.#model.tokenize(text, { addSpecial: true, parseSpecial: false })));
    if (tokens.length === 0) throw new LlamaError('INVALID_ARGUMENT', 'the text is empty (no tokens)');
    if (tokens.length > this.#contextSize) {
      throw new LlamaError(
        'CONTEXT_OVERFLOW',
        `the text has ${tokens.length} tokens, more than the context holds (${this.#contextSize})`,
      );
    }
    this.#embedding ??= this.#track(
      native(
        this.#model.createContext({
          embeddings: true,
          pooling: `${this.info.architecture}.pooling_type` in this.info.metadata ? 'model' : 'mean',
          contextSize: this.#contextSize,
          batchSize: this.#contextSize,
          ubatchSize: this.#contextSize,
          threads: this.#threads,
        }),
      ),
    );
    const run = async () => {
      const context = await this.#embedding!;
      this.#assertLive();
      return native(context.embed(tokens, { normalize }));
    };
    const result = this.#embedQueue.then(run, run);
    this.#embedQueue = result.catch(() => undefined);
    return this.#track(result);
  }

  /**
   * The prompt text chat() generates from: the conversation formatted by llama.cpp's chat layer
   * for the model's template (or `options.template`), tools and thinking included, with the
   * opening of the assistant's turn (unless `addGenerationPrompt: false`).
   */
  async formatChat(messages: readonly ChatMessage[], options: FormatChatModelOptions = {}): Promise<string> {
    this.#assertLive();
    const checked = checkMessages(messages);
    const opts = optionsObject<FormatChatModelOptions>('options', options);
    const { addGenerationPrompt: givenAdd, ...formatting } = opts;
    rejectUnknown('formatChat options', formatting, CHAT_FORMAT_KEYS);
    const addGenerationPrompt = optionalBoolean('addGenerationPrompt', givenAdd) ?? true;
    const { template, request } = this.#chatFormatting(checked, formatting, true);
    if (request === undefined) return formatChat(template, checked, { engine: 'llama.cpp', addGenerationPrompt });
    return (await this.#track(applyChat(this.#model, { ...request, addGenerationPrompt }))).prompt;
  }

  /**
   * Checks chat()'s formatting options. A llama.cpp template name has no request (its built-in
   * formatting takes plain text); a Jinja template gets the chat layer's request.
   */
  #chatFormatting(
    messages: ChatMessage[],
    opts: ChatFormatting,
    thinkingDefault: boolean,
  ): { template: string; tools: ChatTool[]; thinking: boolean; request?: ChatLayerRequest } {
    const template = this.#templateOf(opts.template);
    const tools = opts.tools === undefined ? [] : checkTools(opts.tools);
    const parallel = optionalBoolean('parallelToolCalls', opts.parallelToolCalls);
    const thinking = optionalBoolean('thinking', opts.thinking) ?? thinkingDefault;
    const { toolChoice, templateVariables } = opts;
    if (
      templateVariables !== undefined &&
      (templateVariables === null || typeof templateVariables !== 'object' || Array.isArray(templateVariables))
    ) {
      throw new LlamaError('INVALID_OPTION', 'templateVariables must be an object');
    }
    if (isTemplateName(template)) {
      if (tools.length > 0) {
        throw new LlamaError('INVALID_OPTION', `tools need a Jinja chat template ("${template}" is a llama.cpp name)`);
      }
      return { template, tools, thinking };
    }
    const request: ChatLayerRequest = {
      ...(opts.template === undefined ? {} : { template }),
      messages,
      tools: toolChoice === 'none' ? [] : tools,
      ...(toolChoice === undefined || toolChoice === 'none' ? {} : { toolChoice }),
      ...(parallel === undefined ? {} : { parallelToolCalls: parallel }),
      thinking,
      ...(templateVariables === undefined ? {} : { templateVariables }),
    };
    return { template, tools, thinking, request };
  }

  /** The template a chat call formats with: the given one, else the model's. */
  #templateOf(given: unknown): string {
    const template = given ?? this.info.chatTemplate;
    if (template === undefined) {
      throw new LlamaError(
        'INVALID_OPTION',
        'the model has no chat template: pass options.template (a Jinja template, or a name such as "chatml")',
      );
    }
    if (typeof template !== 'string' || template === '')
      throw new LlamaError('INVALID_OPTION', 'template must be a non-empty string');
    return template;
  }

  /**
   * Answers a conversation: formats it with llama.cpp's chat layer for the model's template (tools,
   * tool results and thinking included), generates, and parses the answer: the thought goes to
   * `reasoning`, tool calls to `toolCalls` (arguments checked against each tool's schema).
   */
  async chat<T = never, const S extends JsonSchema = JsonSchema>(
    messages: readonly ChatMessage[],
    options: ChatOptions & { jsonSchema: S },
  ): Promise<JsonChatResult<[T] extends [never] ? FromJsonSchema<S> : T>>;
  async chat(messages: readonly ChatMessage[], options?: ChatOptions): Promise<ChatResult>;
  async chat(messages: readonly ChatMessage[], options: ChatOptions = {}): Promise<ChatResult> {
    return this.#runChat(await this.#chatPlan(messages, options));
  }

  /**
   * chat(), streamed: `for await (const { content, reasoning } of model.streamChat(messages))`, each
   * chunk with what it adds to the answer and the thought; `result` is the ChatResult.
   */
  streamChat(
    messages: readonly ChatMessage[],
    options: Omit<ChatOptions, 'onToken'> = {},
  ): TokenStream<ChatResult, ChatChunk> {
    if (options !== null && typeof options === 'object' && 'onToken' in options) {
      throw new LlamaError('INVALID_OPTION', 'streamChat() takes no onToken: iterate the stream instead');
    }
    let stopped = false;
    let abort: (() => void) | undefined;
    return new TokenStream<ChatResult, ChatChunk>(
      async (push) => {
        const plan = await this.#chatPlan(messages, options);
        abort = plan.prepared.abort;
        if (stopped) abort();
        return this.#runChat(plan, push);
      },
      () => {
        stopped = true;
        abort?.();
      },
    );
  }

  /** Runs a planned chat; its chunks (to `push`, else to the onToken option) carry the answer text
   *  and thought each adds. */
  async #runChat(plan: ChatPlan, push?: (chunk: ChatChunk) => void): Promise<ChatResult> {
    const receiver = push ?? plan.onToken;
    if (receiver === undefined) return plan.finish(await plan.prepared.run());
    const deltas = new ChatDeltas<TokenChunk>(plan.parse, receiver);
    try {
      const answer = await plan.finish(await plan.prepared.run(deltas.onChunk));
      await deltas.finish(answer);
      return answer;
    } catch (error) {
      await deltas.settled();
      throw error;
    }
  }

  async #chatPlan(messages: readonly ChatMessage[], options: ChatOptions, affinity = 0): Promise<ChatPlan> {
    const { checked, opts, generateOptions, constrained, template, tools, request, thinkingBudget } = this.#chatCheck(
      messages,
      options,
    );
    const { toolChoice } = opts;
    // Check the generation options before the template renders.
    parseGenerateOptions(generateOptions, this.info.vocabSize);
    const bos = this.#specialText.bos;

    if (request === undefined) {
      // A llama.cpp template name: its built-in formatting, plain text in and out.
      const prompt = formatChat(template, checked, { engine: 'llama.cpp' });
      const prepared = this.#prepare(
        prompt,
        { parseSpecial: true, addSpecial: !(bos !== '' && prompt.startsWith(bos)), ...generateOptions },
        undefined,
        affinity,
      );
      return { prepared, finish: async (result) => ({ ...result, toolCalls: [] }), onToken: opts.onToken };
    }

    const format = await this.#track(applyChat(this.#model, request));
    this.#assertLive();
    const prepared = this.#prepare(
      format.prompt,
      { parseSpecial: true, addSpecial: !(bos !== '' && format.prompt.startsWith(bos)), ...generateOptions },
      {
        sampling: formatSampling(format, toolChoice === 'required' || typeof toolChoice === 'object', thinkingBudget),
        preservedTokens: format.preservedTokens,
        stop: format.additionalStops,
      },
      affinity,
    );
    const offered = toolChoice === 'none' ? [] : tools;
    const finish = async (result: GenerateResult): Promise<ChatResult> => {
      // Constrained output is the answer itself, as its grammar wrote it.
      if (constrained || format.plain) return { ...result, toolCalls: [] };
      const complete = result.stopReason === 'eog' || result.stopReason === 'stop';
      const parsed = await this.#track(parseChat(this.#model, result.text, format, complete ? offered : [], !complete));
      const answer: ChatResult = { ...result, text: parsed.content, toolCalls: parsed.toolCalls };
      if (parsed.reasoning !== '') answer.reasoning = parsed.reasoning;
      if (parsed.toolCalls.length > 0) answer.stopReason = 'toolCalls';
      return answer;
    };
    const parse =
      constrained || format.plain
        ? undefined
        : (text: string) => this.#track(parsePartialChat(this.#model, text, format, offered.length > 0));
    return { prepared, finish, parse, onToken: opts.onToken };
  }

  /**
   * A conversation that keeps its memory between turns (see {@link ChatSession}): `system`, the
   * session's `template` and `tools` (with handlers the session runs), and defaults of every turn
   * (any chat() option).
   */
  createChatSession(options: ChatSessionOptions = {}): ChatSession {
    this.#assertLive();
    if (this.#context === null)
      throw new LlamaError('VOCAB_ONLY', 'the model was loaded with vocabOnly: it cannot chat');
    return ChatSession.create(this.#sessionHost(), options);
  }

  /**
   * Restores a session {@link ChatSession.save} wrote (in this process or another) with this model
   * file: its conversation, and its sequence's memory, so the next turn decodes only what it adds.
   * `options` override those it was saved with (pass `tools` again to run their handlers). A file of
   * another model or other LoRA adapters, a damaged or cut-short file, or one of a newer format is
   * `INVALID_SESSION_FILE`.
   */
  async loadChatSession(path: string, options: ChatSessionOptions = {}): Promise<ChatSession> {
    this.#assertLive();
    if (typeof path !== 'string' || path === '')
      throw new LlamaError('INVALID_ARGUMENT', 'path must be a non-empty string');
    if (this.#context === null)
      throw new LlamaError('VOCAB_ONLY', 'the model was loaded with vocabOnly: it cannot chat');
    return this.#track(ChatSession.restore(this.#sessionHost(), resolve(path), options));
  }

  #sessionHost(): SessionHost {
    const context = this.#context!;
    this.#host ??= {
      affinity: () => this.#nextAffinity++,
      check: (options, tools) => {
        const opts = { ...options, ...(tools.length > 0 ? { tools } : {}) } as ChatOptions;
        const { generateOptions } = this.#chatCheck([{ role: 'user', content: '' }], opts);
        parseGenerateOptions(generateOptions, this.info.vocabSize);
      },
      chat: (messages, options, affinity, onChunk) => {
        let abort: (() => void) | undefined;
        let stopped = false;
        const result = (async () => {
          const plan = await this.#chatPlan(messages, options, affinity);
          abort = plan.prepared.abort;
          if (stopped) abort();
          return this.#runChat(plan, onChunk);
        })();
        return {
          result,
          abort: () => {
            stopped = true;
            abort?.();
          },
        };
      },
      saveSequence: (affinity) => {
        this.#assertLive();
        return this.#track(native(context.saveSequence(affinity)));
      },
      loadSequence: async (affinity, tokens, state, draftState) => {
        this.#assertLive();
        await this.#track(
          native(
            context.loadSequence(affinity, {
              tokens,
              state,
              draftState,
              ...(this.#lora.length > 0 ? { lora: this.#lora } : {}),
            }),
          ),
        );
      },
      release: (affinity) => context.releaseSequence(affinity),
      fileHash: () => {
        this.#fileHash ??= fileSha256(this.path);
        this.#fileHash.catch(() => (this.#fileHash = undefined));
        return this.#fileHash;
      },
      lora: () => this.info.lora.map(({ path, scale }) => ({ path, scale })),
      assertLive: () => this.#assertLive(),
    };
    return this.#host;
  }

  /** Checks chat()'s arguments (but the generation options) and splits its options. */
  #chatCheck(messages: readonly ChatMessage[], options: ChatOptions) {
    this.#assertLive();
    const checked = checkMessages(messages);
    const opts = optionsObject<ChatOptions>('options', options);
    const { toolChoice } = opts;
    const generateOptions = Object.fromEntries(
      Object.entries(opts).filter(([key]) => !CHAT_KEYS.includes(key)),
    ) as GenerateOptions;
    const thinkingBudget = optionalInteger('thinkingBudget', opts.thinkingBudget, 0, 2 ** 31 - 1);
    const constrained = generateOptions.jsonSchema !== undefined || generateOptions.grammar !== undefined;
    const { template, tools, thinking, request } = this.#chatFormatting(checked, opts, !constrained);
    if (constrained && thinking) {
      throw new LlamaError('INVALID_OPTION', 'jsonSchema and grammar apply from the first token: use thinking: false');
    }
    if (constrained && tools.length > 0 && toolChoice !== 'none') {
      throw new LlamaError(
        'INVALID_OPTION',
        "jsonSchema and grammar cannot be combined with tools (unless toolChoice: 'none')",
      );
    }
    return { checked, opts, generateOptions, constrained, template, tools, request, thinkingBudget };
  }

  /** Checks the arguments of a generation at once, and returns how to run it. */
  #prepare(prompt: string, options: GenerateOptions, extras?: ChatExtras, affinity = 0): PreparedGeneration {
    this.#assertLive();
    if (typeof prompt !== 'string') throw new LlamaError('INVALID_ARGUMENT', 'prompt must be a string');
    const parsed = parseGenerateOptions(options, this.info.vocabSize);
    if (extras !== undefined) {
      const request: NativeGenerateRequest = parsed.request;
      request.sampling = { ...request.sampling, ...extras.sampling };
      if (extras.preservedTokens.length > 0) request.preservedTokens = extras.preservedTokens;
      if (extras.stop.length > 0) request.stop = [...(request.stop ?? []), ...extras.stop];
    }
    const context = this.#context;
    if (context === null) throw new LlamaError('VOCAB_ONLY', 'the model was loaded with vocabOnly: it cannot generate');
    const token = new (addon().AbortToken)();
    const run = async (onToken?: (chunk: TokenChunk) => void): Promise<GenerateResult> => {
      const stopListening = onSignal(parsed.signal, token);
      this.#abortTokens.add(token);
      try {
        // The prompt goes to the engine as text: it tokenizes the prompt as it admits the request,
        // and raises the empty-prompt and CONTEXT_OVERFLOW errors.
        const request = {
          ...parsed.request,
          prompt,
          addSpecial: parsed.addSpecial,
          parseSpecial: parsed.parseSpecial,
          ...(this.#lora.length > 0 ? { lora: this.#lora } : {}),
          ...(affinity > 0 ? { affinity } : {}),
        };
        const result = await this.#track(native(context.generate(request, onToken ?? parsed.onToken ?? null, token)));
        const output: GenerateResult = {
          text: result.text,
          tokens: Array.from(result.tokens),
          stopReason: result.stopReason,
          timings: result.timings,
        };
        if (result.logprobs !== undefined) output.logprobs = result.logprobs;
        if (parsed.jsonSchema === undefined) return output;
        const json: unknown = parseJsonOutput(result.text, parsed.jsonSchema, result.stopReason);
        const withJson: JsonGenerateResult<unknown> = { ...output, json };
        return withJson;
      } finally {
        stopListening();
        this.#abortTokens.delete(token);
      }
    };
    return { run, abort: () => token.abort() };
  }

  /**
   * Frees the model: in-flight generations stop (rejecting with `DISPOSED`), later calls reject
   * with `DISPOSED`, and the native memory is released once work in flight has drained.
   * Idempotent: every call returns the same promise.
   */
  dispose(): Promise<void> {
    this.#disposal ??= (async () => {
      for (const token of this.#abortTokens) token.abort();
      this.#context?.dispose();
      this.#embedding?.then(
        (context) => context.dispose(),
        () => undefined,
      );
      this.#model.dispose();
      await Promise.allSettled([...this.#inFlight]);
    })();
    return this.#disposal;
  }

  /** `await using model = await LlamaModel.load(...)` disposes the model at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  #assertLive(): void {
    if (this.#disposal !== undefined) throw new LlamaError('DISPOSED', 'the model has been disposed');
  }

  /** Remembers `operation` until it settles, so dispose() can wait for it. */
  #track<T>(operation: Promise<T>): Promise<T> {
    this.#inFlight.add(operation);
    const forget = () => this.#inFlight.delete(operation);
    operation.then(forget, forget);
    return operation;
  }
}
