// LocalProvider: the job-application operations on a GGUF model in-process. Output is constrained
// by each operation's JSON Schema (so it always parses), then validated and returned typed.
import type { z } from 'zod';

import type { DownloadProgress } from '../download.js';
import { jsonSchemaToGrammar } from '../generation/json-schema.js';
import type { ChatMessage } from '../generation/chat.js';
import type { GenerateOptions } from '../generation/generate-options.js';
import { LlamaError } from '../errors.js';
import { parseSpeculative, type LlamaModel, type SpeculativeOptions } from '../LlamaModel.js';
import type { MemoryOptions } from '../memory.js';
import type { AiProvider, CoverLetterOptions, OperationOptions } from './AiProvider.js';
import { AiProviderError, toProviderError } from './errors.js';
import { acquireModel, releaseModels, type CachedLoadOptions } from './model-cache.js';
import { coverLetterPrompt, parseJobPrompt, resumePrompt, skillsPrompt, type Prompt } from './prompts.js';
import {
  CandidateProfileSchema,
  coverLetterSchema,
  JobPostingSchema,
  ResumeSchema,
  SkillSuggestionsSchema,
  toJsonSchema,
  type CandidateProfile,
  type CoverLetter,
  type CoverLetterLength,
  type CoverLetterTone,
  type JobPosting,
  type Resume,
  type SkillSuggestion,
} from './schemas.js';

/**
 * LocalProvider's options: which model, how it is loaded (context, sequences, threads, GPU layers), idle unloading
 * and defaults for the operations.
 */
export interface LocalProviderOptions {
  /**
   * The GGUF model: a path, or `hf:OWNER/REPO:QUANT`, `hf:OWNER/REPO/FILE.gguf` or an https URL,
   * downloaded on first use into the default folder (see {@link downloadModel}). Default: the
   * LLAMA_NAPI_MODEL environment variable.
   */
  modelPath?: string;
  /**
   * Tokens one operation may use (prompt + output), or `'auto'`: the largest that fits memory (see
   * {@link MemoryOptions.contextSize}). Default: the model's training context, at most 4096.
   */
  contextSize?: number | 'auto';
  /** Operations run at once, in parallel sequences of one context. Default 2. */
  sequences?: number;
  threads?: number;
  /** Layers on a GPU: a count, 'all' or 'auto' (default: as many as fit, see {@link MemoryOptions.gpuLayers}). */
  gpuLayers?: number | 'all' | 'auto';
  batchSize?: number;
  /**
   * Speculative decoding (see {@link SpeculativeOptions}): `{ lookup: true }` drafts from text the
   * answer repeats, as parseJob's does when it copies the posting's title, skills and requirements.
   * The output is the same as without it.
   */
  speculative?: SpeculativeOptions;
  /**
   * RPC servers ("host:port") that take the model's layers (see {@link LoadOptions.rpcServers}).
   * An operation that loses a server rejects with `RPC_FAILED`, and the next one loads the model again.
   */
  rpcServers?: readonly string[];
  /** Free the model after this many milliseconds without an operation. Default: keep it. */
  idleTimeoutMs?: number;
  /** Default sampling temperature of the operations (default 0.2). */
  temperature?: number;
  /** Called with the loaded fraction while the model loads. */
  onLoadProgress?: (fraction: number) => void;
  /** Called as an `hf:` or https model downloads, before it loads (see {@link DownloadProgress}). */
  onDownloadProgress?: (progress: DownloadProgress) => void;
}

const TONES: readonly CoverLetterTone[] = ['professional', 'friendly', 'enthusiastic', 'concise'];
const LENGTHS: readonly CoverLetterLength[] = ['short', 'medium', 'long'];

/** An operation's output shape: zod schema and its JSON Schema's grammar. Every shape is bounded
 *  (strings, arrays), so the grammar itself ends the generation: no token budget is needed. */
interface Shape<S extends z.ZodType> {
  schema: S;
  grammar: string;
}

function shape<S extends z.ZodType>(schema: S): Shape<S> {
  return { schema, grammar: jsonSchemaToGrammar(toJsonSchema(schema)) };
}

let shapes:
  | {
      job: Shape<typeof JobPostingSchema>;
      resume: Shape<typeof ResumeSchema>;
      skills: Shape<typeof SkillSuggestionsSchema>;
      letters: Map<CoverLetterLength, Shape<ReturnType<typeof coverLetterSchema>>>;
    }
  | undefined;

function allShapes() {
  shapes ??= {
    job: shape(JobPostingSchema),
    resume: shape(ResumeSchema),
    skills: shape(SkillSuggestionsSchema),
    letters: new Map(LENGTHS.map((length) => [length, shape(coverLetterSchema(length))])),
  };
  return shapes;
}

function invalidInput(message: string): never {
  throw new AiProviderError('INVALID_INPUT', message);
}

/** Checks a zod input and names the field at fault. */
function checked<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = [what, ...(issue?.path ?? []).map(String)].join('.');
    invalidInput(`${field}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/**
 * The job-application provider on a local GGUF model.
 *
 * ```ts
 * const provider = LocalProvider.withModelPath('phi-3-mini-4k-instruct-q4_k_m.gguf');
 * const job = await provider.parseJob(postingText);
 * const resume = await provider.generateResume(profile, job);
 * ```
 * The model is loaded on the first operation, shared by every provider of the same path and
 * options in the process, and freed by unload() (or after `idleTimeoutMs`).
 */
export class LocalProvider implements AiProvider {
  readonly #options: LocalProviderOptions;
  #inFlight = 0;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(options: LocalProviderOptions = {}) {
    if (options === null || typeof options !== 'object') invalidInput('options must be an object');
    for (const key of ['contextSize', 'sequences', 'threads', 'batchSize', 'idleTimeoutMs'] as const) {
      const value = options[key];
      if (key === 'contextSize' && value === 'auto') continue;
      if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 1))
        invalidInput(`${key} must be a positive integer`);
    }
    if (options.temperature !== undefined && (typeof options.temperature !== 'number' || !(options.temperature >= 0))) {
      invalidInput('temperature must be a number ≥ 0');
    }
    for (const key of ['onLoadProgress', 'onDownloadProgress'] as const) {
      if (options[key] !== undefined && typeof options[key] !== 'function') invalidInput(`${key} must be a function`);
    }
    let speculative: SpeculativeOptions | undefined;
    if (options.speculative !== undefined) {
      try {
        speculative = parseSpeculative(options.speculative);
      } catch (error) {
        invalidInput(error instanceof LlamaError ? error.message : String(error));
      }
    }
    this.#options = { ...options, ...(speculative === undefined ? {} : { speculative }) };
  }

  /** A provider for the model at `path`. */
  static withModelPath(path: string, options: Omit<LocalProviderOptions, 'modelPath'> = {}): LocalProvider {
    return new LocalProvider({ ...options, modelPath: path });
  }

  /** The model path in use (the option, else LLAMA_NAPI_MODEL), if any. */
  get modelPath(): string | undefined {
    return this.#options.modelPath ?? (process.env.LLAMA_NAPI_MODEL || undefined);
  }

  async parseJob(posting: string, options: OperationOptions = {}): Promise<JobPosting> {
    if (typeof posting !== 'string' || posting.trim() === '')
      invalidInput('posting is empty: pass the text of a job posting');
    return this.#run(parseJobPrompt(posting), allShapes().job, options);
  }

  async generateResume(profile: CandidateProfile, job: JobPosting, options: OperationOptions = {}): Promise<Resume> {
    const candidate = checked(CandidateProfileSchema, profile, 'profile');
    const target = checked(JobPostingSchema, job, 'job');
    return this.#run(resumePrompt(candidate, target), allShapes().resume, options);
  }

  async generateCoverLetter(
    profile: CandidateProfile,
    job: JobPosting,
    options: CoverLetterOptions = {},
  ): Promise<CoverLetter> {
    const candidate = checked(CandidateProfileSchema, profile, 'profile');
    const target = checked(JobPostingSchema, job, 'job');
    const { tone = 'professional', length = 'medium', ...rest } = options ?? {};
    if (!TONES.includes(tone)) invalidInput(`tone must be one of ${TONES.join(', ')}`);
    if (!LENGTHS.includes(length)) invalidInput(`length must be one of ${LENGTHS.join(', ')}`);
    const letterShape = allShapes().letters.get(length);
    if (letterShape === undefined) invalidInput(`length must be one of ${LENGTHS.join(', ')}`);
    return this.#run(coverLetterPrompt(candidate, target, tone, length), letterShape, rest);
  }

  async suggestSkills(
    profile: CandidateProfile,
    job: JobPosting,
    options: OperationOptions = {},
  ): Promise<SkillSuggestion[]> {
    const candidate = checked(CandidateProfileSchema, profile, 'profile');
    const target = checked(JobPostingSchema, job, 'job');
    const result = await this.#run(skillsPrompt(candidate, target), allShapes().skills, options);
    return result.suggestions;
  }

  /** Lets go of the model (freed when no other provider uses it). The next operation loads it again. */
  async unload(): Promise<void> {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    await releaseModels(this);
  }

  async #model(): Promise<LlamaModel> {
    const path = this.modelPath;
    if (path === undefined || path === '') {
      throw new AiProviderError(
        'MODEL_NOT_CONFIGURED',
        'no model configured: pass { modelPath } (or use LocalProvider.withModelPath) ' +
          'or set LLAMA_NAPI_MODEL=/path/to/model.gguf',
      );
    }
    const { contextSize, sequences = 2, threads, gpuLayers, batchSize, speculative, rpcServers } = this.#options;
    const load: CachedLoadOptions = { sequences };
    if (contextSize !== undefined) load.contextSize = contextSize;
    if (threads !== undefined) load.threads = threads;
    if (gpuLayers !== undefined) load.gpuLayers = gpuLayers;
    if (batchSize !== undefined) load.batchSize = batchSize;
    if (speculative !== undefined) load.speculative = speculative;
    if (rpcServers !== undefined) load.rpcServers = [...rpcServers];
    const { onLoadProgress, onDownloadProgress } = this.#options;
    return acquireModel(this, path, load, { onProgress: onLoadProgress, onDownloadProgress });
  }

  async #run<S extends z.ZodType>(
    prompt: Prompt,
    { schema, grammar }: Shape<S>,
    options: OperationOptions,
  ): Promise<z.infer<S>> {
    const { signal, onToken, temperature, maxTokens: givenMaxTokens } = options ?? {};
    if (signal !== undefined && !(signal instanceof AbortSignal)) invalidInput('signal must be an AbortSignal');
    if (onToken !== undefined && typeof onToken !== 'function') invalidInput('onToken must be a function');
    if (signal?.aborted) throw new AiProviderError('ABORTED', 'the operation was aborted');
    clearTimeout(this.#idleTimer);
    this.#inFlight++;
    try {
      const model = await this.#model();
      const generate: GenerateOptions = {
        grammar,
        temperature: temperature ?? this.#options.temperature ?? 0.2,
        ...(givenMaxTokens === undefined ? {} : { maxTokens: givenMaxTokens }),
        ...(signal === undefined ? {} : { signal }),
        ...(onToken === undefined ? {} : { onToken }),
      };
      const messages: ChatMessage[] = [
        { role: 'system', content: prompt.system },
        { role: 'user', content: prompt.user },
      ];
      const result =
        model.info.chatTemplate !== undefined
          ? await model.chat(messages, generate)
          : await model.generate(`${prompt.system}\n\n${prompt.user}\n\nJSON:\n`, generate);
      if (result.stopReason === 'abort') throw new AiProviderError('ABORTED', 'the operation was aborted');
      if (result.stopReason === 'contextFull') {
        throw new AiProviderError(
          'CONTEXT_OVERFLOW',
          `the model's context (${model.contextSize} tokens) filled before the answer was complete: raise contextSize`,
        );
      }
      if (result.stopReason === 'maxTokens') {
        throw new AiProviderError(
          'INVALID_OUTPUT',
          `the answer was cut off after ${result.tokens.length} tokens (maxTokens): raise maxTokens`,
        );
      }
      let value: unknown;
      try {
        value = JSON.parse(result.text);
      } catch (error) {
        throw new AiProviderError(
          'INVALID_OUTPUT',
          `the model's answer does not parse as JSON: ${JSON.stringify(result.text.slice(0, 200))}`,
          { cause: error },
        );
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new AiProviderError(
          'INVALID_OUTPUT',
          "the model's answer does not match the expected shape: " +
            `${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
        );
      }
      return parsed.data;
    } catch (error) {
      // A lost RPC server leaves the model unusable: the next operation loads it again.
      if (error instanceof LlamaError && error.code === 'RPC_FAILED') void releaseModels(this);
      throw toProviderError(error);
    } finally {
      this.#inFlight--;
      const idle = this.#options.idleTimeoutMs;
      if (this.#inFlight === 0 && idle !== undefined) {
        this.#idleTimer = setTimeout(() => void this.unload(), idle);
        this.#idleTimer.unref();
      }
    }
  }
}
