// The raw addon (`llama-napi/native`): llama.cpp's primitives one-to-one, their handle checks and
// their one-operation-per-context rule.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { LlamaModel } from '../../lib/index.js';
import { OPTION_LIMITS } from '../../lib/limits.js';
import {
  loadAddon,
  NATIVE_ERROR_CODES,
  type NativeAddon,
  type NativeContext,
  type NativeModel,
  SAMPLER_NAMES,
  STOP_REASONS,
} from '../../lib/native.js';
import { testModelPath } from '../fixtures/models.js';

const path = testModelPath('spmF32');
let addon: NativeAddon;
let model: NativeModel;

beforeAll(async () => {
  addon = loadAddon();
  await addon.initBackend();
  model = await addon.loadModel(path, {});
});
afterAll(() => {
  model.dispose();
});

describe('raw addon', () => {
  test('exports the error codes and stop reasons of lib/binding.ts, and versions', () => {
    expect([...addon.errorCodes]).toEqual([...NATIVE_ERROR_CODES]);
    expect([...addon.stopReasons]).toEqual([...STOP_REASONS]);
    expect([...addon.samplerNames]).toEqual([...SAMPLER_NAMES]);
    expect(addon.versions.napi).toBe(8);
    expect(addon.versions.llamaCppCommit).toMatch(/^([0-9a-f]{40}|custom)$/);
    expect(addon.systemInfo()).toMatch(/CPU/);
    expect(addon.supportsMmap()).toBe(true);
  });

  test('a decode → sample loop with a greedy sampler gives the tokens of generate()', async () => {
    const context = await model.createContext({ contextSize: 128, threads: 2 });
    const sampler = new addon.Sampler(model, { temperature: 0 });
    try {
      let tokens = await model.tokenize('Hello my name is', { addSpecial: true, parseSpecial: true });
      const manual: number[] = [];
      await context.decode(tokens);
      expect(context.memorySeqPosMax()).toBe(tokens.length - 1);
      for (let i = 0; i < 10; i++) {
        const token = await context.sample(sampler);
        manual.push(token);
        await context.decode([token]);
      }
      // llama.cpp's own counters: the prompt as one batch, then ten single-token decodes.
      const perf = context.perf();
      expect(perf).toMatchObject({ promptTokens: tokens.length, evalTokens: 10 });
      expect(perf.loadMs).toBeGreaterThan(0);
      expect(perf.promptMs).toBeGreaterThan(0);
      expect(perf.evalMs).toBeGreaterThan(0);
      context.memoryClear();
      expect(context.memorySeqPosMax()).toBe(-1);
      tokens = await model.tokenize('Hello my name is', { addSpecial: true, parseSpecial: true });
      const generated = await context.generate({ tokens, maxTokens: 10, sampling: { temperature: 0 } });
      expect(Array.from(generated.tokens)).toEqual(manual);
    } finally {
      sampler.dispose();
      context.dispose();
    }
  });

  test('the addon checks sampling options against the same table as TypeScript (lib/limits.ts)', () => {
    const sampling = [
      'temperature',
      'topK',
      'topP',
      'minP',
      'typicalP',
      'penaltyLastN',
      'repeatPenalty',
      'frequencyPenalty',
      'presencePenalty',
      'seed',
      'topNSigma',
      'dryMultiplier',
      'dryBase',
      'dryAllowedLength',
      'dryPenaltyLastN',
      'xtcProbability',
      'xtcThreshold',
      'mirostatTau',
      'mirostatEta',
    ] as const;
    for (const key of sampling) {
      const { integer, min, max } = OPTION_LIMITS[key];
      for (const value of [min, max]) new addon.Sampler(model, { [key]: value }).dispose();
      const beyond = integer ? max + 1 : max * 1.5 + 1;
      expect(() => new addon.Sampler(model, { [key]: beyond })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(key) }),
      );
    }
  });

  test('the addon checks context options against the table', async () => {
    const { max } = OPTION_LIMITS.threads;
    await expect(model.createContext({ contextSize: 64, threads: max + 1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: `threads must be an integer from 1 to ${max}`,
    });
    await expect(model.createContext({ sequences: OPTION_LIMITS.sequences.max + 1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  test('generate() takes the prompt as text, tokenized by the engine as tokenize() does', async () => {
    const context = await model.createContext({ contextSize: 128, threads: 2 });
    try {
      const text = 'Hello my name is';
      const tokens = await model.tokenize(text, { addSpecial: true, parseSpecial: true });
      const fromTokens = await context.generate({ tokens, maxTokens: 8, sampling: { temperature: 0 } });
      const fromText = await context.generate({ prompt: text, maxTokens: 8, sampling: { temperature: 0 } });
      expect(Array.from(fromText.tokens)).toEqual(Array.from(fromTokens.tokens));
      expect(fromText.text).toBe(fromTokens.text);
      expect(fromText.timings.promptTokens).toBe(tokens.length);
      // addSpecial and parseSpecial reach the engine's tokenizer.
      const bare = await model.tokenize(text, { addSpecial: false, parseSpecial: true });
      const withoutBos = await context.generate({ prompt: text, addSpecial: false, maxTokens: 1 });
      expect(withoutBos.timings.promptTokens).toBe(bare.length);
    } finally {
      context.dispose();
    }
  });

  test('generate(): an empty prompt, an overlong one and a prompt given twice are typed errors', async () => {
    // llama.cpp rounds a context up to 256 tokens.
    const context = await model.createContext({ contextSize: 64, threads: 2 });
    try {
      await expect(context.generate({ prompt: '', addSpecial: false })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: 'the prompt is empty (no tokens)',
      });
      await expect(context.generate({ tokens: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(context.generate({ prompt: 'word '.repeat(500) })).rejects.toMatchObject({
        code: 'CONTEXT_OVERFLOW',
        message: expect.stringMatching(
          /^the prompt has \d+ tokens, more than the context holds \(256\); load with a larger contextSize$/,
        ),
      });
      await expect(context.generate({ prompt: 'Hi', tokens: [1] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(context.generate({ prompt: 7 as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      // The context is still usable.
      expect(
        (await context.generate({ prompt: 'Hi', maxTokens: 2, sampling: { temperature: 0 } })).tokens,
      ).toHaveLength(2);
    } finally {
      context.dispose();
    }
  });

  test('one operation at a time per context: a second one rejects with BUSY', async () => {
    const context = await model.createContext({ contextSize: 2048 });
    try {
      const tokens = await model.tokenize('Hello');
      const generation = context.generate({ tokens, maxTokens: 500, sampling: { temperature: 0 } });
      await expect(context.decode([1, 2, 3])).rejects.toMatchObject({ code: 'BUSY' });
      expect(() => context.memoryClear()).toThrow(expect.objectContaining({ code: 'BUSY' }));
      expect(() => context.perf()).toThrow(expect.objectContaining({ code: 'BUSY' }));
      await generation;
      await context.decode([1, 2, 3]);
    } finally {
      context.dispose();
    }
  });

  test('sampling before any decode is INVALID_ARGUMENT, not a crash', async () => {
    const context = await model.createContext({ contextSize: 64 });
    const sampler = new addon.Sampler(model, {});
    try {
      await expect(context.sample(sampler)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await context.decode([1, 15043]);
      await expect(context.sample(sampler, { index: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(await context.sample(sampler, { index: 1 })).toBeGreaterThanOrEqual(0);
    } finally {
      sampler.dispose();
      context.dispose();
    }
  });

  test('handles cannot be forged: objects dressed with a handle prototype are rejected', async () => {
    const fake = Object.create(Object.getPrototypeOf(model)) as NativeModel;
    expect(() => new addon.Sampler(fake)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(addon.loadModel(path, {}, null, {} as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const ModelClass = (addon as unknown as { Model: new () => unknown }).Model;
    expect(() => new ModelClass()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const context = await model.createContext({ contextSize: 64 });
    try {
      await expect(context.sample({} as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      context.dispose();
    }
  });

  test('a sampler of another model is refused', async () => {
    const other = await addon.loadModel(testModelPath('spmQ8'), {});
    const sampler = new addon.Sampler(other, {});
    const context = await model.createContext({ contextSize: 64 });
    try {
      await context.decode([1]);
      await expect(context.sample(sampler)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: /another model/,
      });
    } finally {
      context.dispose();
      sampler.dispose();
      other.dispose();
    }
  });

  test(
    'disposing a context during decode rejects it with DISPOSED; ' + 'disposing a model disposes its contexts',
    async () => {
      const own = await addon.loadModel(path, {});
      const context: NativeContext = await own.createContext({ contextSize: 4096, batchSize: 16 });
      const tokens = Array.from({ length: 4000 }, (_, i) => 100 + (i % 1000));
      const decode = context.decode(tokens);
      context.dispose();
      await expect(decode).rejects.toMatchObject({ code: 'DISPOSED' });
      expect(context.disposed).toBe(true);
      expect(() => context.perf()).toThrow(expect.objectContaining({ code: 'DISPOSED' }));

      const second = await own.createContext({ contextSize: 64 });
      own.dispose();
      expect(second.disposed).toBe(true);
      await expect(second.decode([1])).rejects.toMatchObject({ code: 'DISPOSED' });
      await expect(own.tokenize('x')).rejects.toMatchObject({ code: 'DISPOSED' });
      second.dispose();
      own.dispose();
    },
  );

  test('disposing a model while its context is being created rejects the creation with DISPOSED', async () => {
    const own = await addon.loadModel(path, {});
    const creation = own.createContext({ contextSize: 64 });
    own.dispose();
    await expect(creation).rejects.toMatchObject({ code: 'DISPOSED' });
  });

  test('an AbortToken stops a decode with ABORTED', async () => {
    const context = await model.createContext({ contextSize: 4096, batchSize: 16 });
    try {
      const token = new addon.AbortToken();
      const tokens = Array.from({ length: 4000 }, (_, i) => 100 + (i % 1000));
      const decode = context.decode(tokens, {}, token);
      token.abort();
      expect(token.aborted).toBe(true);
      await expect(decode).rejects.toMatchObject({ code: 'ABORTED' });
    } finally {
      context.dispose();
    }
  });

  test('tokenToPiece returns raw bytes, including halves of a UTF-8 character', async () => {
    // In the SPM vocabulary, byte tokens <0xE2> <0x82> <0xAC> spell "€" (U+20AC).
    const ids = await model.tokenize('€', { addSpecial: false });
    const pieces = await model.tokenToPiece(ids);
    expect(Buffer.concat(pieces).toString('utf8')).toContain('€');
  });
});

describe('LlamaModel and the raw addon agree', () => {
  test('model.info mirrors the file', async () => {
    await using llama = await LlamaModel.load(path, { contextSize: 64 });
    expect(llama.info).toMatchObject({
      architecture: 'llama',
      contextTrain: 2048,
      embeddingLength: 64,
      layerCount: 2,
      headCount: 4,
      headCountKv: 2,
      vocabSize: 32000,
      vocabType: 'spm',
      tokens: { bos: 1, eos: 2, eog: [2] },
      // The CPU build: nothing offloaded, of the 2 layers and the output layer.
      gpuLayers: { offloaded: 0, total: 3 },
    });
    expect(llama.info.chatTemplate).toBeUndefined();
    expect(llama.info.metadata['general.name']).toBe('llama-napi test spmF32');
    expect(llama.info.parameters).toBe(2 * 64 * 32000 + 2 * (64 * 64 * 2 + 64 * 32 * 2 + 3 * 64 * 128 + 2 * 64) + 64);
  });
});
