#!/usr/bin/env node
// llama-napi's command line: the job-application operations, plain generation and chat, and a
// look inside a GGUF file — on a local model given by --model or LLAMA_NAPI_MODEL.
//
// Exit codes: 0 done · 2 bad usage · 3 model missing or unloadable · 4 bad input · 5 the model's
// answer failed (cut off, invalid) · 130 interrupted · 1 anything else.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

import { SingleBar } from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

import { LlamaError } from './errors.js';
import { GgufValueType, readGgufHeader, type GgufValue } from './gguf/index.js';
import { LlamaModel, type LoadOptions } from './LlamaModel.js';
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
  contextSize?: number;
  threads?: number;
  gpuLayers?: number;
  temperature?: number;
  maxTokens?: number;
}

const integer = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
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
  const settings: LocalProviderOptions = { modelPath: path, onLoadProgress: progress.onProgress };
  if (options.contextSize !== undefined) settings.contextSize = options.contextSize;
  if (options.threads !== undefined) settings.threads = options.threads;
  if (options.gpuLayers !== undefined) settings.gpuLayers = options.gpuLayers;
  if (options.temperature !== undefined) settings.temperature = options.temperature;
  return { provider: new LocalProvider(settings), done: progress.done };
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
  const load: LoadOptions = { onProgress: progress.onProgress };
  if (options.contextSize !== undefined) load.contextSize = options.contextSize;
  if (options.threads !== undefined) load.threads = options.threads;
  if (options.gpuLayers !== undefined) load.gpuLayers = options.gpuLayers;
  try {
    return await LlamaModel.load(path, load);
  } finally {
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
        'VOCAB_ONLY',
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

export function program(): Command {
  const cli = new Command('llama-napi')
    .description('Run GGUF language models locally: job-application tools, generation and chat.')
    .option('-m, --model <path>', 'GGUF model file (default: $LLAMA_NAPI_MODEL)')
    .option('--json', 'machine-readable output (one line of JSON)')
    .option('-c, --context-size <tokens>', 'tokens the context holds', integer('context size'))
    .option('-t, --threads <n>', 'CPU threads', integer('threads'))
    .option('--gpu-layers <n>', 'layers to offload to a GPU', integer('gpu layers'))
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', number('temperature'))
    .option('--max-tokens <n>', 'most tokens to generate', integer('max tokens'))
    .showHelpAfterError()
    .exitOverride();
  const globals = () => cli.opts<GlobalOptions>();

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
    .description("answer a message with the model's chat template")
    .argument('<message...>', 'the user message')
    .option('-s, --system <text>', 'a system message')
    .option('--template <template>', "a chat template name (chatml, llama3, …) or Jinja text, instead of the model's")
    .action(async (words: string[], options: { system?: string; template?: string }) => {
      const model = await loadModel(globals());
      const { temperature, maxTokens } = globals();
      const signal = interruptSignal();
      const messages = [
        ...(options.system ? [{ role: 'system', content: options.system }] : []),
        { role: 'user', content: words.join(' ') },
      ];
      await streamOrPrint(model, (onToken) =>
        model.chat(messages, {
          signal,
          ...(options.template === undefined ? {} : { template: options.template }),
          ...(temperature === undefined ? {} : { temperature }),
          ...(maxTokens === undefined ? {} : { maxTokens }),
          ...(onToken ? { onToken } : {}),
        }),
      );
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
    const message =
      error instanceof LlamaError && error.code === 'MODEL_NOT_CONFIGURED' ? NO_MODEL_HELP : (error as Error).message;
    process.stderr.write(`llama-napi: ${message}\n`);
    process.exitCode = exitCodeOf(error);
  }
}

await main();
