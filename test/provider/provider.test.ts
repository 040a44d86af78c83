// LocalProvider on a generated model (random weights, a ChatML template): every operation returns
// schema-valid typed output (the grammar leaves no other choice), models are loaded once and shared,
// and every error code is produced.
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, describe, expect, test, vi } from 'vitest';

import {
  AiProviderError,
  CandidateProfileSchema,
  coverLetterSchema,
  JobPostingSchema,
  LlamaError,
  LlamaModel,
  LocalProvider,
  ResumeSchema,
  SkillSuggestionSchema,
  type CandidateProfile,
  type JobPosting,
} from '../../lib/index.js';
import { cachedModelCount } from '../../lib/provider/model-cache.js';
import { testModelPath } from '../fixtures/models.js';
import { repoRoot, vocabPath } from '../fixtures/paths.js';

const modelPath = testModelPath('spmChat');
const posting = readFileSync(join(repoRoot, 'examples', 'job-posting.txt'), 'utf8');
const profile = JSON.parse(
  readFileSync(join(repoRoot, 'examples', 'candidate-profile.json'), 'utf8'),
) as CandidateProfile;
const job: JobPosting = {
  title: 'Senior Backend Engineer',
  summary: 'Builds the booking and billing services.',
  responsibilities: ['Design TypeScript services'],
  requirements: ['5+ years of backend work'],
  niceToHaves: ['Kubernetes'],
  skills: ['TypeScript', 'PostgreSQL'],
  company: 'Lumen Health',
  remotePolicy: 'hybrid',
};

const providers: LocalProvider[] = [];
const make = (options: ConstructorParameters<typeof LocalProvider>[0] = {}) => {
  const provider = new LocalProvider({ modelPath, temperature: 0, ...options });
  providers.push(provider);
  return provider;
};
afterAll(async () => {
  await Promise.all(providers.map((provider) => provider.unload()));
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function expectCode(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AiProviderError);
  expect(error).toBeInstanceOf(LlamaError);
  expect((error as AiProviderError).code).toBe(code);
  if (message) expect((error as AiProviderError).message).toMatch(message);
}

describe('LocalProvider operations on random weights', () => {
  const provider = make();

  test('parseJob returns a JobPosting', async () => {
    const parsed = await provider.parseJob(posting);
    expect(JobPostingSchema.parse(parsed)).toEqual(parsed);
    expect(typeof parsed.title).toBe('string');
    expect(Array.isArray(parsed.skills)).toBe(true);
  });

  test('generateResume returns a Resume', async () => {
    const resume = await provider.generateResume(profile, job);
    expect(ResumeSchema.parse(resume)).toEqual(resume);
  });

  test.each(['short', 'medium', 'long'] as const)(
    'generateCoverLetter (%s) returns a letter of that length',
    async (length) => {
      const letter = await provider.generateCoverLetter(profile, job, { tone: 'friendly', length });
      expect(coverLetterSchema(length).parse(letter)).toEqual(letter);
      expect(letter.paragraphs.length).toBeGreaterThanOrEqual({ short: 2, medium: 3, long: 4 }[length]);
    },
  );

  test('suggestSkills returns SkillSuggestion[]', async () => {
    const skills = await provider.suggestSkills(profile, job);
    expect(skills.length).toBeGreaterThanOrEqual(1);
    for (const skill of skills) expect(SkillSuggestionSchema.parse(skill)).toEqual(skill);
  });

  test('onToken reports progress; concurrent operations share one model', async () => {
    let tokens = 0;
    const [a, b] = await Promise.all([
      provider.parseJob(posting, { onToken: () => tokens++ }),
      provider.suggestSkills(profile, job),
    ]);
    expect(tokens).toBeGreaterThan(0);
    expect(a.title).toBeTypeOf('string');
    expect(b.length).toBeGreaterThan(0);
  });
});

describe('model lifecycle', () => {
  test('ten concurrent parseJob calls on a fresh provider cause exactly one load', async () => {
    const load = vi.spyOn(LlamaModel, 'load');
    const provider = make({ threads: 1, sequences: 4 });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => provider.parseJob(posting, { maxTokens: 2000 })),
    );
    expect(load).toHaveBeenCalledTimes(1);
    for (const result of results) expect(JobPostingSchema.safeParse(result).success).toBe(true);
  });

  test('providers of the same path and options share the model; unload frees it when the last lets go', async () => {
    const load = vi.spyOn(LlamaModel, 'load');
    const before = cachedModelCount();
    const a = make({ contextSize: 2048 });
    const b = LocalProvider.withModelPath(modelPath, { contextSize: 2048, temperature: 0 });
    providers.push(b);
    await a.parseJob(posting);
    await b.parseJob(posting);
    expect(load).toHaveBeenCalledTimes(1);
    expect(cachedModelCount()).toBe(before + 1);
    await a.unload();
    expect(cachedModelCount()).toBe(before + 1);
    await b.unload();
    expect(cachedModelCount()).toBe(before);
  });

  test('an idle timeout frees the model, and the next operation loads it again', async () => {
    const load = vi.spyOn(LlamaModel, 'load');
    const provider = make({ idleTimeoutMs: 50, contextSize: 1536 });
    const before = cachedModelCount();
    await provider.parseJob(posting);
    expect(cachedModelCount()).toBe(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(cachedModelCount()).toBe(before);
    await provider.parseJob(posting);
    expect(load).toHaveBeenCalledTimes(2);
  });

  test('a failed load rejects every waiter; the next call tries again and works', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'llama-napi-provider-'));
    const path = join(scratch, 'model.gguf');
    const provider = make({ modelPath: path });
    const failures = await Promise.allSettled([
      provider.parseJob(posting),
      provider.parseJob(posting),
      provider.parseJob(posting),
    ]);
    for (const failure of failures)
      expect(failure).toMatchObject({ status: 'rejected', reason: { code: 'MODEL_NOT_FOUND' } });
    copyFileSync(modelPath, path);
    expect((await provider.parseJob(posting)).title).toBeTypeOf('string');
  });

  test('LLAMA_NAPI_MODEL is the default path', async () => {
    vi.stubEnv('LLAMA_NAPI_MODEL', modelPath);
    try {
      const provider = new LocalProvider({ temperature: 0 });
      providers.push(provider);
      expect(provider.modelPath).toBe(modelPath);
      expect((await provider.parseJob(posting)).title).toBeTypeOf('string');
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('speculative decoding', () => {
  test('prompt lookup gives the answer plain decoding gives', async () => {
    const load = vi.spyOn(LlamaModel, 'load');
    const plain = make({ contextSize: 2048, sequences: 1 });
    const lookup = make({ contextSize: 2048, sequences: 1, speculative: { lookup: true } });
    const expected = await plain.parseJob(posting);
    expect(await lookup.parseJob(posting)).toEqual(expected);
    expect(await lookup.suggestSkills(profile, job)).toEqual(await plain.suggestSkills(profile, job));
    expect(load).toHaveBeenCalledTimes(2);
    expect(load.mock.calls[1]?.[1]).toMatchObject({ speculative: { lookup: true } });
  });

  test('a bad speculative option is INVALID_INPUT at construction; a bad draft model fails the load', async () => {
    for (const speculative of [{}, { lookup: 'yes' }, { lookup: true, maxDraftTokens: 0 }, { draft: 'x' }, 7]) {
      let error: unknown;
      try {
        new LocalProvider({ modelPath, speculative: speculative as never });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AiProviderError);
      expect((error as AiProviderError).code).toBe('INVALID_INPUT');
      expect((error as AiProviderError).message).toMatch(/speculative/);
    }
    await expectCode(
      make({ speculative: { draftModel: '/nonexistent/draft.gguf' } }).parseJob(posting),
      'MODEL_NOT_FOUND',
      /draft\.gguf/,
    );
    await expectCode(
      make({ speculative: { draftModel: vocabPath('llama-spm') } }).parseJob(posting),
      'MODEL_LOAD_FAILED',
    );
  });
});

describe('errors: every code, and the provider stays usable', () => {
  const provider = make();

  test('MODEL_NOT_CONFIGURED without a path or LLAMA_NAPI_MODEL', async () => {
    vi.stubEnv('LLAMA_NAPI_MODEL', '');
    try {
      await expectCode(new LocalProvider().parseJob(posting), 'MODEL_NOT_CONFIGURED', /LLAMA_NAPI_MODEL/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  test('MODEL_NOT_FOUND for a missing file', async () => {
    await expectCode(
      LocalProvider.withModelPath('/nonexistent/model.gguf').parseJob(posting),
      'MODEL_NOT_FOUND',
      /no model file/,
    );
  });

  test('MODEL_LOAD_FAILED for a file llama.cpp cannot load', async () => {
    await expectCode(LocalProvider.withModelPath(vocabPath('llama-spm')).parseJob(posting), 'MODEL_LOAD_FAILED');
    await expectCode(
      LocalProvider.withModelPath(join(repoRoot, 'package.json')).parseJob(posting),
      'MODEL_LOAD_FAILED',
      /not a GGUF file/,
    );
  });

  test('INVALID_INPUT names the field', async () => {
    await expectCode(provider.parseJob('   '), 'INVALID_INPUT', /posting is empty/);
    const broken = {
      ...profile,
      experience: [{ ...profile.experience?.[0], title: 42 }],
    } as unknown as CandidateProfile;
    await expectCode(provider.generateResume(broken, job), 'INVALID_INPUT', /^profile\.experience\.0\.title: /);
    await expectCode(
      provider.suggestSkills({ skills: [] } as unknown as CandidateProfile, job),
      'INVALID_INPUT',
      /^profile\.name: /,
    );
    await expectCode(
      provider.generateResume(profile, { ...job, title: undefined } as unknown as JobPosting),
      'INVALID_INPUT',
      /^job\.title: /,
    );
    await expectCode(
      provider.generateCoverLetter(profile, job, { tone: 'sarcastic' as never }),
      'INVALID_INPUT',
      /tone must be one of/,
    );
    expect(CandidateProfileSchema.safeParse(profile).success).toBe(true);
  });

  test('CONTEXT_OVERFLOW for a posting longer than the context (nothing is cut silently)', async () => {
    const small = make({ contextSize: 256 });
    await expectCode(small.parseJob(posting), 'CONTEXT_OVERFLOW', /more than the context holds/);
  });

  test('INVALID_OUTPUT when the answer is cut off', async () => {
    await expectCode(provider.parseJob(posting, { maxTokens: 5 }), 'INVALID_OUTPUT', /cut off after 5 tokens/);
  });

  test('ABORTED when the signal fires, before or during the operation', async () => {
    await expectCode(provider.parseJob(posting, { signal: AbortSignal.abort() }), 'ABORTED');
    const controller = new AbortController();
    await expectCode(
      provider.generateResume(profile, job, { signal: controller.signal, onToken: () => controller.abort() }),
      'ABORTED',
    );
  });

  test('after all that, the provider still works', async () => {
    expect((await provider.parseJob(posting)).title).toBeTypeOf('string');
  });
});
