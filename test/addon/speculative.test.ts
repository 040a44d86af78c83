// Speculative decoding with llama.cpp's common/speculative: prompt lookup and a draft model give the
// text plain decoding gives (greedy, and sampled with a seed: each token is still sampled once, in
// order), with parallel sequences, grammars and stop strings; timings count the drafted and accepted
// tokens; bad options and models that cannot take part are typed errors.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { LlamaModel, type GenerateOptions } from '../../lib/index.js';
import { testModelPath } from '../fixtures/models.js';
import { llamaArchModels } from '../fixtures/oracle.js';
import { haveStories, storiesPath, storiesSkipMessage } from '../fixtures/paths.js';

const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside. One day, Lily';
// Output that copies its prompt: the case prompt lookup is for.
const COPY =
  'Tom had a red ball. Tom had a red ball and a big dog. The dog liked the ball. Tom had a red ball and a big dog.';

describe.skipIf(!haveStories)(
  `speculative decoding on stories260K${haveStories ? '' : ` (${storiesSkipMessage})`}`,
  () => {
    let plain: LlamaModel;
    let lookup: LlamaModel;
    let drafted: LlamaModel;
    beforeAll(async () => {
      plain = await LlamaModel.load(storiesPath, { contextSize: 512, threads: 2, sequences: 3 });
      lookup = await LlamaModel.load(storiesPath, {
        contextSize: 512,
        threads: 2,
        sequences: 3,
        speculative: { lookup: true },
      });
      // The model drafting for itself: every draft is what it would generate, so most are accepted.
      drafted = await LlamaModel.load(storiesPath, {
        contextSize: 512,
        threads: 2,
        sequences: 3,
        speculative: { draftModel: storiesPath, maxDraftTokens: 6 },
      });
    });
    afterAll(async () => {
      await Promise.all([plain?.dispose(), lookup?.dispose(), drafted?.dispose()]);
    });

    test('greedy output equals plain decoding, and the timings count the drafts', async () => {
      const options: GenerateOptions = { temperature: 0, maxTokens: 200 };
      const expected = await plain.generate(STORY, options);
      expect(expected.timings.draftTokens).toBe(0);
      for (const model of [lookup, drafted]) {
        const result = await model.generate(STORY, options);
        expect(result.text).toBe(expected.text);
        expect(result.tokens).toEqual(expected.tokens);
        expect(result.stopReason).toBe(expected.stopReason);
        expect(result.timings.acceptedTokens).toBeGreaterThan(0);
        expect(result.timings.draftTokens).toBeGreaterThanOrEqual(result.timings.acceptedTokens);
      }
      const self = await drafted.generate(STORY, options);
      // Drafting for itself, nearly every drafted token is accepted.
      expect(self.timings.acceptedTokens / self.timings.draftTokens).toBeGreaterThan(0.9);
    });

    test('prompt lookup drafts an output that copies the prompt', async () => {
      const options: GenerateOptions = { temperature: 0, maxTokens: 60 };
      const expected = await plain.generate(COPY, options);
      const result = await lookup.generate(COPY, options);
      expect(result.tokens).toEqual(expected.tokens);
      expect(result.timings.acceptedTokens).toBeGreaterThan(0);
    });

    test('sampled output with a seed is the same token for token', async () => {
      for (const sampling of [
        { temperature: 0.8, seed: 7 },
        { temperature: 1, topK: 0, topP: 0.9, minP: 0.02, repeatPenalty: 1.1, seed: 3 },
        { mirostat: { version: 2 as const, tau: 5, eta: 0.1 }, seed: 11 },
      ]) {
        // Verifying a draft evaluates its tokens in one batch, whose logits may differ from one-token
        // decodes in the last bits on some CPUs; a long sampled run can part there (as in llama.cpp).
        const options: GenerateOptions = { ...sampling, maxTokens: 60 };
        const expected = await plain.generate(STORY, options);
        for (const model of [lookup, drafted]) {
          expect((await model.generate(STORY, options)).tokens).toEqual(expected.tokens);
        }
      }
    });

    test('parallel sequences each give their solo text', async () => {
      const prompts = [STORY, COPY, 'The little dog'];
      const options: GenerateOptions = { temperature: 0, maxTokens: 120 };
      const solo = [];
      for (const prompt of prompts) solo.push((await plain.generate(prompt, options)).tokens);
      for (const model of [lookup, drafted]) {
        const together = await Promise.all(prompts.map((prompt) => model.generate(prompt, options)));
        expect(together.map((result) => result.tokens)).toEqual(solo);
        // And again, reusing what the first round left in each sequence's memory.
        const again = await Promise.all(prompts.map((prompt) => model.generate(prompt, options)));
        expect(again.map((result) => result.tokens)).toEqual(solo);
      }
    });

    test('stop strings, token limits, logprobs and streaming stop where plain decoding does', async () => {
      const options: GenerateOptions = { temperature: 0, maxTokens: 150, stop: ['park'], logprobs: 2 };
      const expected = await plain.generate(STORY, options);
      expect(expected.stopReason).toBe('stop');
      for (const model of [lookup, drafted]) {
        const result = await model.generate(STORY, options);
        expect(result.text).toBe(expected.text);
        expect(result.stopReason).toBe('stop');
        expect(result.logprobs!.map((entry) => entry.token)).toEqual(expected.logprobs!.map((entry) => entry.token));
        for (const [i, entry] of result.logprobs!.entries()) {
          // A batch's sums differ from a single token's in the last bits only.
          expect(entry.logprob).toBeCloseTo(expected.logprobs![i]!.logprob, 2);
        }
        const full = await plain.generate(STORY, { temperature: 0, maxTokens: 33 });
        for (const maxTokens of [1, 2, 7, 33]) {
          const limited = await model.generate(STORY, { temperature: 0, maxTokens });
          expect(limited.tokens).toEqual(full.tokens.slice(0, maxTokens));
          expect(limited.stopReason).toBe('maxTokens');
          // A request ending inside a draft counts what it took of it, and leaves nothing to the next.
          expect(limited.timings.acceptedTokens).toBeLessThanOrEqual(limited.timings.draftTokens);
        }
        let streamed = '';
        const chunks = await model.generate(STORY, {
          ...options,
          onToken: (chunk) => {
            streamed += chunk.text;
          },
        });
        expect(streamed).toBe(chunks.text);
      }
    });

    test('grammar-constrained output is the same and valid', async () => {
      const schema = {
        type: 'object',
        properties: { name: { type: 'string', maxLength: 12 }, age: { type: 'integer', minimum: 1, maximum: 9 } },
        required: ['name', 'age'],
      } as const;
      const options = { temperature: 0, maxTokens: 80, jsonSchema: schema } as const;
      const expected = await plain.generate(`${STORY} {"name": "Lily", "age": 5} ${STORY}`, options);
      for (const model of [lookup, drafted]) {
        const result = await model.generate(`${STORY} {"name": "Lily", "age": 5} ${STORY}`, options);
        expect(result.text).toBe(expected.text);
        expect(result.json).toEqual(expected.json);
      }
    });

    test('context shift with drafts shifts at the same token as without', async () => {
      const small = { contextSize: 128, threads: 2 };
      const options: GenerateOptions = { temperature: 0, maxTokens: 290, ignoreEos: true, contextShift: { keep: 4 } };
      await using shifting = await LlamaModel.load(storiesPath, small);
      await using speculating = await LlamaModel.load(storiesPath, { ...small, speculative: { lookup: true } });
      const reference = await shifting.generate(STORY, options);
      const result = await speculating.generate(STORY, options);
      expect(result.tokens).toHaveLength(290); // past two shifts of a 128-token context
      expect(result.tokens).toEqual(reference.tokens);
      expect(result.timings.acceptedTokens).toBeGreaterThan(0);
    });
  },
);

describe('speculative decoding on output that repeats itself', () => {
  // spmCycle's next token is a function of the current one: its greedy output enters a cycle.
  const options: GenerateOptions = { temperature: 0, maxTokens: 600, ignoreEos: true };
  let expected: number[];
  beforeAll(async () => {
    await using plain = await LlamaModel.load(testModelPath('spmCycle'), { contextSize: 1024, threads: 2 });
    expected = (await plain.generate('The', options)).tokens;
    const period = expected.lastIndexOf(expected.at(-1)!, -2);
    expect(expected.length - 1 - period).toBeLessThan(300); // the cycle is there
  });

  test.each([
    ['prompt lookup', { lookup: true }],
    ['the model drafting for itself', { draftModel: testModelPath('spmCycle'), maxDraftTokens: 8 }],
  ])('%s accepts most of it, and gives the same tokens', async (_name, speculative) => {
    await using model = await LlamaModel.load(testModelPath('spmCycle'), {
      contextSize: 1024,
      threads: 2,
      speculative,
    });
    for (let round = 0; round < 2; round++) {
      const result = await model.generate('The', options);
      expect(result.tokens).toEqual(expected);
      expect(result.timings.acceptedTokens).toBeGreaterThan(300);
      expect(result.timings.acceptedTokens).toBeLessThanOrEqual(result.timings.draftTokens);
    }
  });
});

describe('speculative options and models that cannot take part', () => {
  test.each([
    [{}, /draftModel, lookup: true, or both/],
    [{ lookup: 'yes' }, /speculative\.lookup/],
    [{ lookup: true, maxDraftTokens: 0 }, /speculative\.maxDraftTokens/],
    [{ lookup: true, maxDraftTokens: 65 }, /speculative\.maxDraftTokens/],
    [{ lookup: true, draft: 'x' }, /draft/],
    [{ draftModel: '' }, /speculative\.draftModel/],
  ])('%j is INVALID_OPTION', async (speculative, message) => {
    await expect(LlamaModel.load(testModelPath('spmF32'), { speculative: speculative as never })).rejects.toMatchObject(
      { code: 'INVALID_OPTION', message: expect.stringMatching(message) },
    );
  });

  test('a missing draft model is MODEL_NOT_FOUND; vocabOnly takes no draft', async () => {
    await expect(
      LlamaModel.load(testModelPath('spmF32'), { speculative: { draftModel: '/nonexistent/draft.gguf' } }),
    ).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(
      LlamaModel.load(testModelPath('spmF32'), { vocabOnly: true, speculative: { lookup: true } }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });

  test('a draft model with another vocabulary is INVALID_DRAFT_MODEL', async () => {
    await expect(
      LlamaModel.load(testModelPath('spmF32'), { speculative: { draftModel: testModelPath('bpeF32') } }),
    ).rejects.toMatchObject({ code: 'INVALID_DRAFT_MODEL', message: expect.stringContaining('vocab') });
    // The process is healthy, and the same model loads without it.
    const model = await LlamaModel.load(testModelPath('spmF32'), { contextSize: 64, threads: 2 });
    expect((await model.generate('Hello', { maxTokens: 3 })).tokens.length).toBeGreaterThan(0);
    await model.dispose();
  });

  test.each(['mamba', 'jamba'])('a %s model (memory that cannot drop a tail) is UNSUPPORTED', async (arch) => {
    const path = llamaArchModels(`^${arch}$`).get(`${arch}-dense`)!;
    await expect(
      LlamaModel.load(path, { contextSize: 64, threads: 2, speculative: { lookup: true } }),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('recurrent') });
    await expect(
      LlamaModel.load(testModelPath('spmF32'), { contextSize: 64, speculative: { draftModel: path } }),
    ).rejects.toMatchObject({ code: 'INVALID_DRAFT_MODEL' });
  });

  test('a random-weight model speculates, and its tokens stay in range', async () => {
    const model = await LlamaModel.load(testModelPath('spmF32'), {
      contextSize: 128,
      threads: 2,
      sequences: 2,
      speculative: { lookup: true, draftModel: testModelPath('spmF32'), maxDraftTokens: 4 },
    });
    try {
      const results = await Promise.all([
        model.generate('Hello my name is', { temperature: 0, maxTokens: 100, ignoreEos: true }),
        model.generate('The capital of', { temperature: 1, seed: 2, maxTokens: 100, ignoreEos: true }),
      ]);
      for (const result of results) {
        expect(result.tokens).toHaveLength(100);
        expect(result.timings.draftTokens).toBeGreaterThan(0);
      }
      expect(await model.dispose()).toBeUndefined();
    } finally {
      await model.dispose();
    }
  });
});
