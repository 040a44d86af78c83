// ChatSession: a conversation that keeps its sequence's memory between turns (each turn decodes only
// what is new), runs tool handlers, and saves to a file whose restore decodes nothing again.
import { LlamaError } from './errors.js';
import type { ChatChunk, ChatOptions, ChatResult } from './LlamaModel.js';
import { checkMessages, type ChatMessage } from './generation/chat.js';
import { checkTools, type ChatTool, type ToolCall } from './generation/chat-layer.js';
import { readSessionFile, writeSessionFile, type SessionHeader } from './generation/session-file.js';
import { TokenStream } from './generation/stream.js';
import { optionalSignal, optionsObject } from './option-checks.js';
import type { NativeSequenceState } from './binding.js';

/** What a tool's handler receives besides the call's arguments. */
export interface ToolHandlerContext {
  /** The call, as the model made it. */
  call: ToolCall;
  /** Fires when the turn is aborted (its `signal`, or the session's dispose()). */
  signal: AbortSignal;
}

/**
 * Runs a tool: takes the call's arguments (parsed, checked against the tool's parameters) and
 * returns its result — a string as it is, anything else as JSON. A handler that throws gives the
 * model a tool message saying so.
 */
export type ToolHandler = (args: Record<string, unknown>, context: ToolHandlerContext) => unknown;

/** A tool of a chat session: a {@link ChatTool}, and the function that runs it. */
export interface SessionTool extends ChatTool {
  /** Without one, the session returns the calls for you to answer (send tool messages). */
  handler?: ToolHandler;
}

/** Options of {@link LlamaModel.createChatSession}: defaults of every turn, the system prompt, tools. */
export interface ChatSessionOptions extends Omit<ChatOptions, 'tools' | 'onToken' | 'signal'> {
  /** The system message the conversation starts with. */
  system?: string;
  /** Tools the model may call; those with a handler the session runs itself. */
  tools?: readonly SessionTool[];
  /** Most rounds of tool calls one send() runs before it returns the calls unanswered. Default 8. */
  maxToolRounds?: number;
  /** Messages the conversation starts with (after `system`). */
  history?: readonly ChatMessage[];
}

/** Options of one turn: those of chat() but the template and tools, which are the session's. */
export interface ChatSendOptions extends Omit<ChatOptions, 'template' | 'tools' | 'onToken'> {
  maxToolRounds?: number;
}

/** What a turn sends: the user's text, or messages (a tool's results, say). */
export type ChatInput = string | ChatMessage | readonly ChatMessage[];

/** The model's side of a session (made by LlamaModel; not part of the public API). */
export interface SessionHost {
  /** The model's sequence owner id for a new session. */
  affinity(): number;
  /** Checks a session's options (throws as chat() would). */
  check(options: Record<string, unknown>, tools: readonly ChatTool[]): void;
  /** One generation of a turn: chat() on `messages`, in the session's sequence. */
  chat(
    messages: readonly ChatMessage[],
    options: ChatOptions,
    affinity: number,
    onChunk: ((chunk: ChatChunk) => void) | undefined,
  ): { result: Promise<ChatResult>; abort: () => void };
  saveSequence(affinity: number): Promise<NativeSequenceState>;
  loadSequence(affinity: number, tokens: number[], state: Uint8Array, draftState: Uint8Array): Promise<void>;
  release(affinity: number): void;
  /** The model file's SHA-256 and size (computed once). */
  fileHash(): Promise<{ sha256: string; size: number }>;
  lora(): Array<{ path: string; scale: number }>;
  assertLive(): void;
}

const CREATE = Symbol('ChatSession.create');
const SEND_ONLY = ['signal'];

function aborted(): LlamaError {
  return new LlamaError('ABORTED', 'the chat turn was aborted');
}

function checkRounds(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1000)
    throw new LlamaError(
      'INVALID_OPTION',
      `maxToolRounds must be a whole number from 0 to 1000 (got ${String(value)})`,
    );
  return value;
}

/** A handler's result as the tool message's text. */
function toolText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The JSON-safe part of a session's options (what its file keeps). */
function savedOptions(options: Record<string, unknown>, tools: readonly ChatTool[]): Record<string, unknown> {
  const saved: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === 'history' || typeof value === 'function' || value === undefined) continue;
    saved[key] = value;
  }
  if (tools.length > 0) saved.tools = tools;
  return JSON.parse(JSON.stringify(saved)) as Record<string, unknown>;
}

/**
 * A conversation with a model that keeps its memory between turns: each {@link ChatSession.send}
 * decodes only what the turn adds (`timings.reusedTokens` counts what it did not decode again).
 * Sessions of one model run in parallel on its sequences; more sessions than sequences take turns
 * with them (a session whose sequence another took decodes its conversation again). A session's
 * own calls run one after another.
 *
 * ```ts
 * const session = model.createChatSession({ system: 'You are terse.' });
 * const first = await session.send('Name a colour.');
 * const second = await session.send('And another?'); // decodes only this turn
 * await session.save('chat.session');
 * ```
 */
export class ChatSession {
  readonly #host: SessionHost;
  readonly #affinity: number;
  readonly #options: Record<string, unknown>;
  readonly #tools: ChatTool[];
  readonly #handlers = new Map<string, ToolHandler>();
  readonly #maxToolRounds: number;
  readonly #start: ChatMessage[];
  #history: ChatMessage[];
  #queue: Promise<unknown> = Promise.resolve();
  readonly #stop = new AbortController();
  #disposal: Promise<void> | undefined;

  /** @internal Made by model.createChatSession() and model.loadChatSession(). */
  constructor(
    token: symbol,
    host: SessionHost,
    options: ChatSessionOptions,
    restored?: { start: ChatMessage[]; messages: ChatMessage[] },
  ) {
    if (token !== CREATE)
      throw new LlamaError('INVALID_ARGUMENT', 'a ChatSession is made by model.createChatSession(), not with new');
    const opts = optionsObject<ChatSessionOptions>('options', options) as Record<string, unknown>;
    for (const key of ['onToken', ...SEND_ONLY]) {
      if (key in opts) {
        throw new LlamaError(
          'INVALID_OPTION',
          key === 'signal'
            ? 'a session takes no signal: pass it to send()'
            : 'a session takes no onToken: use stream()',
        );
      }
    }
    const { system, tools, maxToolRounds, history: given, ...defaults } = opts;
    if (system !== undefined && typeof system !== 'string')
      throw new LlamaError('INVALID_OPTION', 'system must be a string');
    this.#tools = tools === undefined ? [] : checkTools(tools, true);
    for (const tool of (tools ?? []) as SessionTool[]) {
      if (tool.handler !== undefined) this.#handlers.set(tool.name, tool.handler);
    }
    this.#maxToolRounds = checkRounds(maxToolRounds) ?? 8;
    host.check(defaults, this.#tools);
    this.#host = host;
    this.#options = { ...defaults, ...(maxToolRounds === undefined ? {} : { maxToolRounds }) };
    if (system !== undefined) this.#options.system = system;
    this.#start = restored?.start ?? [
      ...(system === undefined ? [] : [{ role: 'system', content: system }]),
      ...(given === undefined || (Array.isArray(given) && given.length === 0) ? [] : checkMessages(given)),
    ];
    this.#history = restored?.messages ?? [...this.#start];
    this.#affinity = host.affinity();
  }

  /** @internal */
  static create(host: SessionHost, options: ChatSessionOptions): ChatSession {
    return new ChatSession(CREATE, host, options);
  }

  /** @internal Restores a session model.loadChatSession() read. */
  static async restore(host: SessionHost, path: string, options: ChatSessionOptions): Promise<ChatSession> {
    const file = await readSessionFile(path);
    const { header } = file;
    const identity = await host.fileHash();
    if (header.model.sha256 !== identity.sha256 || header.model.size !== identity.size) {
      throw new LlamaError(
        'INVALID_SESSION_FILE',
        `${path} was saved with another model (SHA-256 ${header.model.sha256.slice(0, 12)}…, this one is ` +
          `${identity.sha256.slice(0, 12)}…)`,
      );
    }
    const lora = host.lora();
    if (JSON.stringify(header.lora) !== JSON.stringify(lora)) {
      throw new LlamaError(
        'INVALID_SESSION_FILE',
        `${path} was saved with LoRA adapters ${JSON.stringify(header.lora)}; ` +
          `the model now applies ${JSON.stringify(lora)}`,
      );
    }
    let messages: ChatMessage[];
    let start: ChatMessage[];
    try {
      messages = checkMessages(header.messages);
      start = header.start.length === 0 ? [] : checkMessages(header.start);
    } catch {
      throw new LlamaError('INVALID_SESSION_FILE', `${path} holds messages that are not a conversation`);
    }
    const given = optionsObject<ChatSessionOptions>('options', options);
    for (const key of ['system', 'history']) {
      if (key in given) throw new LlamaError('INVALID_OPTION', `${key} is the saved session's: it cannot be given`);
    }
    const { system: _system, history: _history, ...saved } = header.options;
    // The conversation is the file's; the options given override those it was saved with.
    const session = new ChatSession(CREATE, host, { ...saved, ...given } as ChatSessionOptions, { start, messages });
    if (header.tokens.length > 0) {
      try {
        await host.loadSequence(session.#affinity, header.tokens, file.state, file.draftState);
      } catch (error) {
        session.#release();
        throw error;
      }
    }
    return session;
  }

  /** The conversation so far (system message included). */
  get history(): readonly ChatMessage[] {
    return this.#history.map((message) => ({ ...message }));
  }

  /** True once {@link ChatSession.dispose} has been called. */
  get disposed(): boolean {
    return this.#disposal !== undefined;
  }

  /**
   * Sends a turn and answers it. With tool handlers, runs the loop: the model's calls go to their
   * handlers, their results back to the model, until it answers without calls (at most
   * `maxToolRounds` rounds; `toolChoice: 'required'` applies to the first, later ones are `'auto'`).
   * The result is the last answer's; `history` has the whole turn. An aborted turn rejects with
   * `ABORTED` and leaves `history` as it was.
   */
  send(input: ChatInput, options: ChatSendOptions = {}): Promise<ChatResult> {
    return this.#enqueue(input, options, undefined);
  }

  /** send(), streamed: the chunks of every round of the turn; `result` is send()'s result. */
  stream(input: ChatInput, options: Omit<ChatSendOptions, 'onToken'> = {}): TokenStream<ChatResult, ChatChunk> {
    if (options !== null && typeof options === 'object' && 'onToken' in options) {
      throw new LlamaError('INVALID_OPTION', 'stream() takes no onToken: iterate the stream instead');
    }
    const stopper = new AbortController();
    return new TokenStream<ChatResult, ChatChunk>(
      (push) => this.#enqueue(input, options, push, stopper.signal),
      () => stopper.abort(),
    );
  }

  /** Back to where the session started (its system message and initial history). */
  reset(): void {
    this.#assertLive();
    this.#history = [...this.#start];
  }

  /**
   * Writes the session to `path`: its messages, options (without handlers), the tokens its sequence
   * holds and that sequence's memory, with the model file's hash. Waits for turns in flight.
   */
  save(path: string): Promise<void> {
    this.#assertLive();
    if (typeof path !== 'string' || path === '')
      throw new LlamaError('INVALID_ARGUMENT', 'path must be a non-empty string');
    return this.#serialize(async () => {
      const [sequence, model] = await Promise.all([this.#host.saveSequence(this.#affinity), this.#host.fileHash()]);
      const header: SessionHeader = {
        model,
        lora: this.#host.lora(),
        options: savedOptions(this.#options, this.#tools),
        messages: this.#history,
        start: this.#start,
        tokens: Array.from(sequence.tokens),
      };
      await writeSessionFile(path, { header, state: sequence.state, draftState: sequence.draftState });
    });
  }

  /** Ends the session: a turn in flight rejects with `DISPOSED`, and its sequence is anyone's. */
  dispose(): Promise<void> {
    this.#disposal ??= (async () => {
      this.#stop.abort(); // every turn's signal includes it: the generation in flight stops
      await this.#queue.catch(() => undefined);
      this.#release();
    })();
    return this.#disposal;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  #release(): void {
    try {
      this.#host.release(this.#affinity);
    } catch {
      // The model is gone: nothing holds the sequence.
    }
  }

  #assertLive(): void {
    if (this.#disposal !== undefined) throw new LlamaError('DISPOSED', 'the chat session has been disposed');
    this.#host.assertLive();
  }

  /** Runs `work` after every call queued before it. */
  #serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = async () => {
      if (this.#disposal !== undefined) throw new LlamaError('DISPOSED', 'the chat session has been disposed');
      return work();
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #enqueue(
    input: ChatInput,
    options: ChatSendOptions,
    onChunk: ((chunk: ChatChunk) => void) | undefined,
    stopped?: AbortSignal,
  ): Promise<ChatResult> {
    this.#assertLive();
    const added = this.#messagesOf(input);
    const opts = optionsObject<ChatSendOptions>('options', options) as Record<string, unknown>;
    for (const key of ['template', 'tools']) {
      if (key in opts) throw new LlamaError('INVALID_OPTION', `${key} is the session's: set it in createChatSession()`);
    }
    const { maxToolRounds, signal: given, ...rest } = opts;
    const rounds = checkRounds(maxToolRounds) ?? this.#maxToolRounds;
    const signal = optionalSignal('signal', given);
    const turn = { ...this.#defaults(), ...rest } as ChatOptions;
    // Check the turn's options now, not when its turn in the queue comes.
    this.#host.check(turn as Record<string, unknown>, this.#tools);
    return this.#serialize(() => this.#turn(added, turn, rounds, signal, onChunk, stopped));
  }

  #defaults(): Record<string, unknown> {
    const { system: _system, maxToolRounds: _rounds, ...defaults } = this.#options;
    return defaults;
  }

  #messagesOf(input: ChatInput): ChatMessage[] {
    if (typeof input === 'string') return [{ role: 'user', content: input }];
    if (Array.isArray(input)) return checkMessages(input);
    if (input !== null && typeof input === 'object') return checkMessages([input]);
    throw new LlamaError('INVALID_ARGUMENT', 'send() takes a string, a message or an array of messages');
  }

  async #turn(
    added: ChatMessage[],
    options: ChatOptions,
    maxRounds: number,
    signal: AbortSignal | undefined,
    onChunk: ((chunk: ChatChunk) => void) | undefined,
    stopped: AbortSignal | undefined,
  ): Promise<ChatResult> {
    const signals = [this.#stop.signal, ...(signal === undefined ? [] : [signal]), ...(stopped ? [stopped] : [])];
    const turnSignal = AbortSignal.any(signals);
    const check = () => {
      if (this.#stop.signal.aborted) throw new LlamaError('DISPOSED', 'the chat session was disposed during the turn');
      if (turnSignal.aborted) throw aborted();
    };
    check();
    const working = [...this.#history, ...added];
    const firstChoice = options.toolChoice;
    for (let round = 0; ; round++) {
      const choice = round === 0 || firstChoice === 'none' ? firstChoice : 'auto';
      const generation = this.#host.chat(
        working,
        { ...options, tools: this.#tools, ...(choice === undefined ? {} : { toolChoice: choice }) },
        this.#affinity,
        onChunk,
      );
      const abort = () => generation.abort();
      turnSignal.addEventListener('abort', abort, { once: true });
      if (turnSignal.aborted) abort();
      let result: ChatResult;
      try {
        result = await generation.result;
      } finally {
        turnSignal.removeEventListener('abort', abort);
      }
      check();
      const answer: ChatMessage = { role: 'assistant', content: result.text };
      if (result.reasoning !== undefined) answer.reasoning = result.reasoning;
      if (result.toolCalls.length > 0) answer.toolCalls = result.toolCalls;
      working.push(answer);
      const runnable = result.toolCalls.length > 0 && result.toolCalls.every((call) => this.#handlers.has(call.name));
      if (!runnable || round >= maxRounds) {
        this.#history = working;
        return result;
      }
      for (const call of result.toolCalls) {
        const handler = this.#handlers.get(call.name)!;
        let content: string;
        try {
          content = toolText(await handler(call.arguments, { call, signal: turnSignal }));
        } catch (error) {
          content = `Error: ${error instanceof Error ? error.message : String(error)}`;
        }
        check();
        working.push({ role: 'tool', toolCallId: call.id, name: call.name, content });
      }
    }
  }
}
