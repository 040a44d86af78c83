// Lifecycle: abort, dispose while loading and generating, double dispose, use after dispose —
// each a defined outcome, never a crash or a hang.
import { describe, expect, test } from 'vitest';

import { LlamaError, LlamaModel } from '../../lib/index.js';
import { testModelPath } from '../fixtures/models.js';

const path = testModelPath('spmF32');

describe('LlamaModel.generate: abort', () => {
  test('aborting mid-generation resolves with what was generated and stopReason abort', async () => {
    await using model = await LlamaModel.load(path, { contextSize: 4096 });
    const controller = new AbortController();
    let seen = 0;
    const result = await model.generate('Hello', {
      temperature: 0,
      signal: controller.signal,
      onToken: () => {
        seen += 1;
        if (seen === 5) controller.abort();
      },
    });
    expect(result.stopReason).toBe('abort');
    expect(result.tokens.length).toBeGreaterThanOrEqual(5);
    expect(result.tokens.length).toBeLessThan(4000);
    // The model is healthy afterwards.
    expect((await model.generate('Hello', { temperature: 0, maxTokens: 4 })).tokens).toHaveLength(4);
  });

  test('an abort from a timer stops a long generation', async () => {
    await using model = await LlamaModel.load(path, { contextSize: 8192 });
    const result = await model.generate('Hello', { temperature: 0, signal: AbortSignal.timeout(30) });
    expect(result.stopReason).toBe('abort');
  });

  test('an already aborted signal rejects with ABORTED before any work', async () => {
    await using model = await LlamaModel.load(path, { contextSize: 64 });
    await expect(model.generate('Hello', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('LlamaModel.load: abort and progress', () => {
  test('onProgress reports fractions up to 1', async () => {
    const fractions: number[] = [];
    await using model = await LlamaModel.load(path, { contextSize: 64, onProgress: (f) => fractions.push(f) });
    expect(model.info.architecture).toBe('llama');
    expect(fractions.length).toBeGreaterThan(0);
    expect(fractions.at(-1)).toBe(1);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1] ?? 0);
  });

  test('aborting from onProgress rejects the load with ABORTED', async () => {
    const controller = new AbortController();
    const load = LlamaModel.load(path, { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(load).rejects.toMatchObject({ code: 'ABORTED' });
  });

  test('an onProgress that throws rejects the load with that error', async () => {
    const boom = new Error('boom from onProgress');
    await expect(
      LlamaModel.load(path, {
        onProgress: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
  });
});

describe('LlamaModel.dispose', () => {
  test('dispose during generation: the generation rejects with DISPOSED, dispose resolves', async () => {
    const model = await LlamaModel.load(path, { contextSize: 8192 });
    let started!: () => void;
    const firstToken = new Promise<void>((resolve) => (started = resolve));
    const generation = model.generate('Hello', { temperature: 0, onToken: () => started() });
    await firstToken;
    await model.dispose();
    await expect(generation).rejects.toMatchObject({ code: 'DISPOSED' });
    expect(model.disposed).toBe(true);
  });

  test('generations queued behind a disposed one reject with DISPOSED', async () => {
    const model = await LlamaModel.load(path, { contextSize: 1024 });
    const first = model.generate('Hello', { temperature: 0 });
    const second = model.generate('Hello', { temperature: 0 });
    const disposal = model.dispose();
    const results = await Promise.allSettled([first, second, disposal]);
    expect(results[2].status).toBe('fulfilled');
    for (const result of results.slice(0, 2)) {
      if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: 'DISPOSED' });
    }
    expect(results[1]).toMatchObject({ status: 'rejected' });
  });

  test('double dispose returns the same promise and is harmless', async () => {
    const model = await LlamaModel.load(path, { contextSize: 64 });
    const first = model.dispose();
    const second = model.dispose();
    expect(second).toBe(first);
    await Promise.all([first, second]);
    await model.dispose();
  });

  test('every method rejects with DISPOSED after dispose', async () => {
    const model = await LlamaModel.load(path, { contextSize: 64 });
    await model.dispose();
    for (const call of [() => model.generate('Hello'), () => model.tokenize('Hello'), () => model.detokenize([1])]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LlamaError);
      expect(error).toMatchObject({ code: 'DISPOSED' });
    }
  });

  test('await using disposes at the end of the scope', async () => {
    let escaped: LlamaModel;
    {
      await using model = await LlamaModel.load(path, { contextSize: 64 });
      escaped = model;
      expect(model.disposed).toBe(false);
    }
    expect(escaped.disposed).toBe(true);
  });

  test('many load / generate / dispose cycles leave the process healthy', async () => {
    for (let i = 0; i < 20; i++) {
      const model = await LlamaModel.load(path, { contextSize: 64 });
      const generation = model.generate('Hello', { temperature: 0, maxTokens: i % 3 === 0 ? 1000 : 3 });
      if (i % 2 === 0) await model.dispose();
      await generation.catch((e: unknown) => expect(e).toMatchObject({ code: 'DISPOSED' }));
      await model.dispose();
    }
  });
});
