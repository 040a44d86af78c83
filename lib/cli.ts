#!/usr/bin/env node
// llama-napi's command line: the job-application operations, plain generation and chat, a look
// inside a GGUF file, and downloading a model — on a model given by --model or LLAMA_NAPI_MODEL
// (a path, or an hf: or https source downloaded on first use).
//
// Exit codes: 0 done · 2 bad usage · 3 model missing, unloadable or failed to download · 4 bad input
// · 5 the model's answer failed (cut off, invalid) · 130 interrupted · 1 anything else.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';

import { SingleBar } from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

import { downloadReporter } from './download-bar.js';
import { defaultModelsDir, downloadModel } from './download.js';
import { LlamaError } from './errors.js';
import { GgufValueType, readGgufHeader, type GgufValue } from './gguf/index.js';
import type { ChatSession, ChatSessionOptions } from './ChatSession.js';
import { LlamaModel, type ChatChunk, type LoadOptions } from './LlamaModel.js';
import { setLogLevel } from './logging.js';
import { estimateMemory, type DeviceMemory, type EstimateMemoryOptions } from './memory.js';
import { startRpcServer } from './rpc.js';
import { LocalProvider, type LocalProviderOptions } from './provider/LocalProvider.js';
import type { CandidateProfile, CoverLetterLength, CoverLetterTone, JobPosting } from './provider/schemas.js';

const EXIT = { usage: 2, model: 3, input: 4, output: 5, interrupted: 130, other: 1 } as const;

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

interface GlobalOptions {
  model?: string;
  json?: boolean;
  contextSize?: number | 'auto';
  threads?: number;
  gpuLayers?: number | 'all' | 'auto';
  rpc?: string;
  temperature?: number;
  maxTokens?: number;
  verbose?: boolean;
}

/** The API's option names in llama.cpp-napi's messages, and the flags that set them here. */
const FLAGS: Array<[RegExp, string]> = [
  [/\boptions\.template\b/g, '--template'],
  [/\bcontextSize\b/g, '--context-size'],
  [/\bmaxTokens\b/g, '--max-tokens'],
  [/\bgpuLayers\b/g, '--gpu-layers'],
  [/\brpcServers\b/g, '--rpc'],
  [/\bthinkingBudget\b/g, '--thinking-budget'],
  [/\bsha256 must\b/g, '--sha256 must'],
  [/\bdir must\b/g, '--dir must'],
];

/** An error's message as the command line tells it: naming its flags, not the API's options. */
function cliMessage(error: unknown): string {
  if (error instanceof LlamaError && error.code === 'MODEL_NOT_CONFIGURED') return NO_MODEL_HELP;
  const message = error instanceof Error ? error.message : String(error);
  return FLAGS.reduce((text, [option, flag]) => text.replace(option, flag), message);
}

const integer = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};
/** An integer, or one of `words` as it is. */
const integerOr =
  <W extends string>(name: string, ...words: W[]) =>
  (value: string): number | W => {
    if ((words as string[]).includes(value)) return value as W;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) {
      throw new InvalidArgumentError(`${name} must be a non-negative integer or ${words.join(' or ')}`);
    }
    return n;
  };
const number = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative number`);
  return n;
};

const NO_MODEL_HELP = [
  'No model configured.',
  'Point llama-napi at a GGUF model file, either way:',
  '  llama-napi --model /path/to/model.gguf <command> …',
  '  export LLAMA_NAPI_MODEL=/path/to/model.gguf',
  'Any llama.cpp GGUF chat model works; the reference setup is Phi-3-mini-4k-instruct Q4_K_M (~2.3 GB).',
].join('\n');

function readInput(path: string): string {
  try {
    return path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read ${path === '-' ? 'standard input' : path}: ${(error as Error).message}`,
      EXIT.input,
    );
  }
}

function readJson<T>(path: string, what: string): T {
  const text = readInput(path);
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new CliError(`${what} (${path}) is not JSON: ${(error as Error).message}`, EXIT.input);
  }
}

function modelPath(options: GlobalOptions): string {
  const path = options.model ?? (process.env.LLAMA_NAPI_MODEL || undefined);
  if (path === undefined) throw new CliError(NO_MODEL_HELP, EXIT.model);
  return path;
}

/** A progress bar on stderr while a model loads (only on a terminal). */
function loadProgress(path: string): { onProgress: (fraction: number) => void; done: () => void } {
  if (!process.stderr.isTTY) return { onProgress: () => {}, done: () => {} };
  const bar = new SingleBar({
    stream: process.stderr,
    format: `loading ${basename(path)} [{bar}] {percentage}%`,
    hideCursor: true,
    clearOnComplete: true,
  });
  let started = false;
  return {
    onProgress: (fraction) => {
      if (!started) bar.start(100, 0);
      started = true;
      bar.update(Math.round(fraction * 100));
    },
    done: () => {
      if (started) bar.stop();
    },
  };
}

function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  return controller.signal;
}

function print(value: unknown, options: GlobalOptions): void {
  process.stdout.write(`${options.json ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`);
}

function provider(options: GlobalOptions): { provider: LocalProvider; done: () => void } {
  const path = modelPath(options);
  const progress = loadProgress(path);
  const download = downloadReporter();
  const settings: LocalProviderOptions = {
    modelPath: path,
    onLoadProgress: progress.onProgress,
    onDownloadProgress: download.onProgress,
  };
  if (options.contextSize !== undefined) settings.contextSize = options.contextSize;
  if (options.threads !== undefined) settings.threads = options.threads;
  if (options.gpuLayers !== undefined) settings.gpuLayers = options.gpuLayers;
  if (options.rpc !== undefined) settings.rpcServers = options.rpc.split(',');
  if (options.temperature !== undefined) settings.temperature = options.temperature;
  return {
    provider: new LocalProvider(settings),
    done: () => {
      download.done();
      progress.done();
    },
  };
}

function operationOptions(options: GlobalOptions, signal: AbortSignal) {
  return { signal, ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens }) };
}

/** The job: a JobPosting JSON file, or a posting's text (parsed first). */
async function jobFrom(
  path: string,
  ai: LocalProvider,
  options: GlobalOptions,
  signal: AbortSignal,
): Promise<JobPosting> {
  const text = readInput(path);
  try {
    return JSON.parse(text) as JobPosting;
  } catch {
    if (!options.json) process.stderr.write('parsing the job posting first…\n');
    return ai.parseJob(text, operationOptions(options, signal));
  }
}

async function loadModel(options: GlobalOptions): Promise<LlamaModel> {
  const path = modelPath(options);
  const progress = loadProgress(path);
  const download = downloadReporter();
  const load: LoadOptions = { onProgress: progress.onProgress, onDownloadProgress: download.onProgress };
  if (options.contextSize !== undefined) load.contextSize = options.contextSize;
  if (options.threads !== undefined) load.threads = options.threads;
  if (options.gpuLayers !== undefined) load.gpuLayers = options.gpuLayers;
  if (options.rpc !== undefined) load.rpcServers = options.rpc.split(',');
  try {
    return await LlamaModel.load(path, load);
  } finally {
    download.done();
    progress.done();
  }
}

function describeValue(value: GgufValue): unknown {
  if (value.type === GgufValueType.ARRAY) {
    return value.value.length > 16
      ? `[${value.value.length} items]`
      : value.value.map((item) =>
          typeof item === 'object'
            ? describeValue(item as GgufValue)
            : typeof item === 'bigint'
              ? item.toString()
              : item,
        );
  }
  return typeof value.value === 'bigint' ? value.value.toString() : value.value;
}

function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof LlamaError) {
    if (
      [
        'MODEL_NOT_CONFIGURED',
        'MODEL_NOT_FOUND',
        'MODEL_LOAD_FAILED',
        'INVALID_MODEL_FILE',
        'CONTEXT_CREATE_FAILED',
        'INSUFFICIENT_MEMORY',
        'VOCAB_ONLY',
        'DOWNLOAD_FAILED',
        'CHECKSUM_MISMATCH',
      ].includes(error.code)
    )
      return EXIT.model;
    if (
      ['INVALID_INPUT', 'INVALID_OPTION', 'INVALID_ARGUMENT', 'INVALID_JSON_SCHEMA', 'INVALID_GRAMMAR'].includes(
        error.code,
      )
    )
      return EXIT.input;
    if (error.code === 'ABORTED') return EXIT.interrupted;
    return EXIT.output;
  }
  return EXIT.other;
}

interface ChatCommandOptions {
  system?: string;
  template?: string;
  thinking?: boolean;
  thinkingBudget?: number;
  interactive?: boolean;
}

/** --template: a llama.cpp template name, Jinja text, or a file holding Jinja text. */
function templateText(value: string): string {
  return existsSync(value) && statSync(value).isFile() ? readInput(value) : value;
}

/** The chat options the command line sets (a session's: its system message included). */
function chatSettings(model: LlamaModel, options: ChatCommandOptions, globals: GlobalOptions): ChatSessionOptions {
  const template = options.template === undefined ? undefined : templateText(options.template);
  if (template === undefined && model.info.chatTemplate === undefined) {
    throw new CliError(
      `${basename(model.path)} has no chat template: pass --template with a name (chatml, llama3, …), ` +
        'Jinja text or a Jinja file',
      EXIT.usage,
    );
  }
  const { temperature, maxTokens } = globals;
  return {
    ...(options.system ? { system: options.system } : {}),
    ...(template === undefined ? {} : { template }),
    ...(options.thinking === false ? { thinking: false } : {}),
    ...(options.thinkingBudget === undefined ? {} : { thinkingBudget: options.thinkingBudget }),
    ...(temperature === undefined ? {} : { temperature }),
    ...(maxTokens === undefined ? {} : { maxTokens }),
  };
}

/** Writes a chat's answer as it streams: the thought dimmed on a terminal (left out elsewhere, as
 *  it is not the answer), then the answer. */
function chatWriter(): ((chunk: ChatChunk) => void) & { end: () => void } {
  const terminal = process.stdout.isTTY === true;
  let thinking = false;
  const write = (chunk: ChatChunk) => {
    if (terminal && chunk.reasoning !== '') {
      if (!thinking) process.stdout.write('\x1b[2m');
      thinking = true;
      process.stdout.write(chunk.reasoning);
    }
    if (chunk.content !== '') {
      if (thinking) process.stdout.write('\x1b[22m\n');
      thinking = false;
      process.stdout.write(chunk.content);
    }
  };
  return Object.assign(write, {
    end: () => {
      process.stdout.write(thinking ? '\x1b[22m\n' : '\n');
      thinking = false;
    },
  });
}

const CHAT_HELP = [
  'Type a message and press Enter. Ctrl-C stops an answer; Ctrl-D (or /exit) ends the conversation.',
  '  /save FILE   write the conversation, its memory included, to FILE',
  '  /load FILE   continue a conversation /save wrote',
  '  /reset       start the conversation again',
  '  /help        this list',
].join('\n');

/**
 * The interactive conversation: a ChatSession, one turn per line of input, answers streamed to
 * stdout (with --json, one ChatResult per line), notes to stderr. Ctrl-C stops the answer being
 * written (or, between answers, ends the conversation).
 */
async function chatLoop(model: LlamaModel, settings: ChatSessionOptions, globals: GlobalOptions): Promise<void> {
  const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const lines = createInterface({
    input: process.stdin,
    output: terminal ? process.stdout : undefined,
    terminal,
    historySize: 1000,
    prompt: '> ',
  });
  const note = (text: string) => process.stderr.write(`${text}\n`);
  const { system: _system, ...restored } = settings; // a loaded session brings its own system message
  let session: ChatSession = model.createChatSession(settings);
  let turn: AbortController | undefined;
  const interrupt = () => {
    if (turn !== undefined) turn.abort();
    else lines.close();
  };
  lines.on('SIGINT', interrupt); // a terminal's Ctrl-C reaches readline
  process.on('SIGINT', interrupt); // otherwise the process gets the signal
  const prompt = () => {
    if (terminal) lines.prompt();
  };
  const command = async (line: string): Promise<boolean> => {
    const [name = '', ...rest] = line.split(/\s+/);
    const argument = line.slice(name.length).trim();
    if (name === '/exit' || name === '/quit') return false;
    if (name === '/help') note(CHAT_HELP);
    else if (name === '/reset') {
      session.reset();
      note('the conversation starts again');
    } else if (name === '/save' || name === '/load') {
      if (rest.length === 0) note(`usage: ${name} FILE`);
      else if (name === '/save') {
        await session.save(argument);
        note(`saved ${session.history.length} messages to ${argument}`);
      } else {
        const loaded = await model.loadChatSession(argument, restored);
        await session.dispose();
        session = loaded;
        note(`loaded ${session.history.length} messages from ${argument}`);
      }
    } else note(`unknown command ${name}: /help lists the commands`);
    return true;
  };
  const answer = async (text: string) => {
    turn = new AbortController();
    try {
      if (globals.json) {
        print(await session.send(text, { signal: turn.signal }), globals);
      } else {
        const stream = session.stream(text, { signal: turn.signal });
        const write = chatWriter();
        for await (const chunk of stream) write(chunk);
        await stream.result;
        write.end();
      }
    } catch (error) {
      if (!(error instanceof LlamaError) || error.code !== 'ABORTED') throw error;
      if (!globals.json) process.stdout.write('\n');
      note('(stopped; the answer is not kept)');
    } finally {
      turn = undefined;
    }
  };
  try {
    if (terminal) note(`${basename(model.path)}: /help lists the commands, Ctrl-D ends the conversation`);
    prompt();
    for await (const raw of lines) {
      const line = raw.trim();
      try {
        if (line.startsWith('/')) {
          if (!(await command(line))) break;
        } else if (line !== '') {
          await answer(line);
        }
      } catch (error) {
        // A turn or command that fails (a file that is not a session, a full context) leaves the
        // conversation as it was: say why and go on.
        if (!(error instanceof LlamaError)) throw error;
        note(`llama-napi: ${cliMessage(error)}`);
      }
      prompt();
    }
  } finally {
    process.off('SIGINT', interrupt);
    lines.close();
    await session.dispose();
  }
}

export function program(): Command {
  const cli = new Command('llama-napi')
    .description('Run GGUF language models locally: job-application tools, generation and chat.')
    .option(
      '-m, --model <path>',
      'GGUF model: a file, or hf:OWNER/REPO:QUANT, hf:OWNER/REPO/FILE.gguf or an https URL, downloaded on ' +
        'first use (default: $LLAMA_NAPI_MODEL)',
    )
    .option('--json', 'machine-readable output (one line of JSON)')
    .option(
      '-c, --context-size <tokens>',
      "tokens the context holds, or 'auto': the most that fit memory",
      integerOr('context size', 'auto'),
    )
    .option('-t, --threads <n>', 'CPU threads', integer('threads'))
    .option(
      '--gpu-layers <n>',
      "layers to offload to a GPU: a count, 'all', or 'auto' (default: as many as fit)",
      integerOr('gpu layers', 'all', 'auto'),
    )
    .option('--rpc <host:port,...>', "RPC servers that take the model's layers (llama-napi rpc-server)")
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', number('temperature'))
    .option('--max-tokens <n>', 'most tokens to generate', integer('max tokens'))
    .option('-v, --verbose', "llama.cpp's log on stderr (its notes and warnings on loading a model)")
    .showHelpAfterError()
    .exitOverride();
  const globals = () => cli.opts<GlobalOptions>();
  // llama.cpp's notes on a model's metadata are for those who ask (--verbose, LLAMA_NAPI_LOG_LEVEL).
  // pull needs no native code: it runs where the addon is not built yet.
  cli.hook('preAction', (_cli, command) => {
    if (command.name() === 'pull') return;
    if (globals().verbose) setLogLevel('info');
    else if (!process.env.LLAMA_NAPI_LOG_LEVEL) setLogLevel('error');
  });

  cli
    .command('parse-job')
    .description('extract the structured fields of a job posting')
    .argument('<file>', 'the posting as text, or - for standard input')
    .action(async (file: string) => {
      const { provider: ai, done } = provider(globals());
      try {
        const text = readInput(file);
        print(await ai.parseJob(text, operationOptions(globals(), interruptSignal())), globals());
      } finally {
        done();
        await ai.unload();
      }
    });

  /** A command on a candidate profile and a job: reads both (parsing the job when it is a
   *  posting), runs `operation` with the provider, prints its result. */
  const withProfileAndJob = <O extends { profile: string; job: string }>(
    name: string,
    description: string,
    operation: (
      ai: LocalProvider,
      profile: CandidateProfile,
      job: JobPosting,
      signal: AbortSignal,
      options: O,
    ) => Promise<unknown>,
    extra: (command: Command) => Command = (command) => command,
  ) =>
    extra(
      cli
        .command(name)
        .description(description)
        .requiredOption('-p, --profile <file>', 'candidate profile (JSON)')
        .requiredOption('-j, --job <file>', 'the job: a parsed posting (JSON) or the posting text'),
    ).action(async (options: O) => {
      const { provider: ai, done } = provider(globals());
      try {
        const signal = interruptSignal();
        const profile = readJson<CandidateProfile>(options.profile, 'the profile');
        const job = await jobFrom(options.job, ai, globals(), signal);
        print(await operation(ai, profile, job, signal, options), globals());
      } finally {
        done();
        await ai.unload();
      }
    });

  withProfileAndJob('resume', 'write a resume tailored to the job', (ai, profile, job, signal) =>
    ai.generateResume(profile, job, operationOptions(globals(), signal)),
  );
  withProfileAndJob<{ profile: string; job: string; tone: CoverLetterTone; length: CoverLetterLength }>(
    'cover-letter',
    'write a cover letter for the job',
    (ai, profile, job, signal, options) =>
      ai.generateCoverLetter(profile, job, {
        ...operationOptions(globals(), signal),
        tone: options.tone,
        length: options.length,
      }),
    (command) =>
      command
        .addOption(
          new Option('--tone <tone>', 'tone')
            .choices(['professional', 'friendly', 'enthusiastic', 'concise'])
            .default('professional'),
        )
        .addOption(new Option('--length <length>', 'length').choices(['short', 'medium', 'long']).default('medium')),
  );
  withProfileAndJob('skills', 'suggest skills to highlight or learn for the job', (ai, profile, job, signal) =>
    ai.suggestSkills(profile, job, operationOptions(globals(), signal)),
  );

  const streamOrPrint = async (
    model: LlamaModel,
    run: (onToken?: (chunk: { text: string }) => void) => Promise<{ text: string }>,
  ) => {
    if (globals().json) {
      print(await run(), globals());
    } else {
      await run((chunk) => process.stdout.write(chunk.text));
      process.stdout.write('\n');
    }
    await model.dispose();
  };

  cli
    .command('generate')
    .description('continue a prompt')
    .argument('<prompt...>', 'the prompt')
    .action(async (words: string[]) => {
      const model = await loadModel(globals());
      const { temperature, maxTokens } = globals();
      const signal = interruptSignal();
      await streamOrPrint(model, (onToken) =>
        model.generate(words.join(' '), {
          signal,
          ...(temperature === undefined ? {} : { temperature }),
          ...(maxTokens === undefined ? {} : { maxTokens }),
          ...(onToken ? { onToken } : {}),
        }),
      );
    });

  cli
    .command('chat')
    .description(
      "answer a message with the model's chat template; without one, on a terminal (or with -i), " +
        'an interactive conversation',
    )
    .argument('[message...]', 'the user message')
    .option('-s, --system <text>', 'a system message')
    .option(
      '--template <template>',
      "a chat template instead of the model's: a name (chatml, llama3, …), Jinja text, or a file of Jinja",
    )
    .option('--no-thinking', 'a reasoning model answers without thinking first')
    .option('--thinking-budget <tokens>', 'most tokens a thought may take', integer('thinking budget'))
    .option('-i, --interactive', 'an interactive conversation, also when standard input is not a terminal')
    .action(async (words: string[], options: ChatCommandOptions) => {
      const interactive = options.interactive === true || (words.length === 0 && process.stdin.isTTY === true);
      if (!interactive && words.length === 0) {
        throw new CliError('chat needs a message (or -i for a conversation)', EXIT.usage);
      }
      const model = await loadModel(globals());
      try {
        const settings = chatSettings(model, options, globals());
        if (interactive) {
          await chatLoop(model, settings, globals());
          return;
        }
        const { system, ...chatOptions } = settings;
        const messages = [
          ...(system ? [{ role: 'system', content: system }] : []),
          { role: 'user', content: words.join(' ') },
        ];
        const signal = interruptSignal();
        if (globals().json) {
          print(await model.chat(messages, { ...chatOptions, signal }), globals());
        } else {
          const write = chatWriter();
          await model.chat(messages, { ...chatOptions, signal, onToken: write });
          write.end();
        }
      } finally {
        await model.dispose();
      }
    });

  cli
    .command('rpc-server')
    .description(
      "serve this machine's devices to llama.cpp RPC clients (a model's layers computed here); " +
        'Ctrl-C stops. The protocol is unauthenticated: keep it on 127.0.0.1, a trusted network or a tunnel',
    )
    .option('--host <address>', 'the address to listen on', '127.0.0.1')
    .option('--port <port>', 'the TCP port', integer('port'), 50052)
    .option('--device <names>', 'the devices to serve, comma-separated (default: the GPUs, else the CPU)')
    .option('--cache <dir>', 'keep tensors clients send in DIR, so a next load sends only their hashes')
    .action(async (options: { host: string; port: number; device?: string; cache?: string }) => {
      const { threads } = globals();
      // The library's warning about an address other machines reach, as the command line says things.
      process.removeAllListeners('warning');
      process.on('warning', (warning) => process.stderr.write(`llama-napi: warning: ${warning.message}\n`));
      const server = await startRpcServer({
        host: options.host,
        port: options.port,
        ...(threads === undefined ? {} : { threads }),
        ...(options.device === undefined ? {} : { devices: options.device.split(',').map((name) => name.trim()) }),
        ...(options.cache === undefined ? {} : { cacheDir: options.cache }),
      });
      const stop = () => void server.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.stderr.write(`llama-napi: serving at ${server.endpoint} (Ctrl-C stops)\n`);
      try {
        await server.closed;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });

  cli
    .command('pull')
    .description(
      'download a GGUF model (every part of a split one), verified, resuming an interrupted download; ' +
        'prints its path (the first part of a split model). HF_TOKEN: a token for gated repositories',
    )
    .argument('<source>', 'hf:OWNER/REPO:QUANT, hf:OWNER/REPO/FILE.gguf or an https:// URL')
    .option('--dir <dir>', `the folder to download into (default: $LLAMA_NAPI_MODELS or ${defaultModelsDir()})`)
    .option('--sha256 <hex>', "the file's expected SHA-256 (default: the one the hub publishes)")
    .action(async (source: string, options: { dir?: string; sha256?: string }) => {
      const report = downloadReporter();
      let path: string;
      try {
        path = await downloadModel(source, {
          ...options,
          onProgress: report.onProgress,
          signal: interruptSignal(),
        });
      } finally {
        report.done();
      }
      if (globals().json) print({ path }, globals());
      else process.stdout.write(`${path}\n`);
    });

  cli
    .command('memory')
    .description(
      'what the model would take on each device and in memory with these options (-c, --gpu-layers, --rpc), ' +
        'without loading its weights',
    )
    .argument('[model]', 'GGUF file (default: --model, $LLAMA_NAPI_MODEL)')
    .option(
      '--limit <MiB>',
      "MiB the model may use on each device (without one: of this machine's memory)",
      integer('limit'),
    )
    .action(async (model: string | undefined, local: { limit?: number }) => {
      const options = globals();
      const path = model ?? modelPath(options);
      const request: EstimateMemoryOptions = {};
      if (options.contextSize !== undefined) request.contextSize = options.contextSize;
      if (options.gpuLayers !== undefined) request.gpuLayers = options.gpuLayers;
      if (options.rpc !== undefined) request.rpcServers = options.rpc.split(',');
      if (local.limit !== undefined) request.memoryLimit = local.limit * 2 ** 20;
      const plan = await estimateMemory(path, request);
      if (options.json) {
        print(plan, options);
      } else {
        const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
        const line = (label: string, memory: DeviceMemory) =>
          `${label}: ${mib(memory.model + memory.context + memory.compute)} (model ${mib(memory.model)}, ` +
          `context ${mib(memory.context)}, compute ${mib(memory.compute)}) of ${mib(memory.free)} free`;
        const lines = [
          `${basename(path)}: ${plan.gpuLayers.offloaded}/${plan.gpuLayers.total} layers offloaded, ` +
            `a context of ${plan.contextSize} tokens`,
          ...plan.devices.map((device) => line(`${device.name} (${device.description})`, device)),
          line('host', plan.host),
          plan.fits ? 'fits' : `does not fit: ${plan.reason}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      if (!plan.fits) process.exitCode = EXIT.model;
    });

  cli
    .command('inspect')
    .description("a GGUF file's metadata and tensors, without loading its weights")
    .argument('<model>', 'GGUF file')
    .action(async (path: string) => {
      const header = await readGgufHeader(path).catch((error: unknown) => {
        throw new CliError(`${path}: ${(error as Error).message}`, EXIT.model);
      });
      const metadata = Object.fromEntries([...header.metadata].map(([key, value]) => [key, describeValue(value)]));
      const parameters = header.tensors.reduce((sum, tensor) => sum + tensor.dims.reduce((a, b) => a * b, 1), 0);
      const summary = {
        file: path,
        version: header.version,
        architecture: metadata['general.architecture'],
        name: metadata['general.name'],
        parameters,
        tensors: header.tensors.length,
        bytes: header.fileSize,
        chatTemplate: header.metadata.has('tokenizer.chat_template'),
        metadata,
      };
      if (globals().json) {
        print(summary, globals());
        return;
      }
      const lines = [
        `${basename(path)}: GGUF v${summary.version}, ` +
          `${String(summary.architecture ?? 'unknown architecture')}` +
          `${summary.name ? ` (${String(summary.name)})` : ''}`,
        `${(parameters / 1e6).toFixed(2)} M parameters in ${summary.tensors} tensors, ` +
          `${(summary.bytes / 2 ** 20).toFixed(1)} MiB`,
        `chat template: ${summary.chatTemplate ? 'yes' : 'no'}`,
        '',
        ...Object.entries(metadata)
          .filter(([key]) => key !== 'tokenizer.chat_template')
          .map(([key, value]) => `${key} = ${typeof value === 'string' ? value : JSON.stringify(value)}`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  return cli;
}

async function main(): Promise<void> {
  try {
    await program().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode =
        error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : EXIT.usage;
      return;
    }
    process.stderr.write(`llama-napi: ${cliMessage(error)}\n`);
    process.exitCode = exitCodeOf(error);
  }
}

await main();
