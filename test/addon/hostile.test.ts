// Hostile input, table-driven: every public method with wrong types, out-of-range numbers, NaN,
// huge and empty strings, lone surrogates, aborted signals, and calls in every order — each a typed
// error or a correct result, never a crash or a hang.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { LlamaError, LlamaModel, LocalProvider } from '../../lib/index.js';
import { loadAddon } from '../../lib/native.js';
import { testModelPath } from '../fixtures/models.js';

const path = testModelPath('spmF32');
let model: LlamaModel;

beforeAll(async () => {
  model = await LlamaModel.load(path, { contextSize: 256, sequences: 4 });
});
afterAll(async () => {
  await model.dispose();
});

/** Runs `call`; passes if it returns normally or fails with a LlamaError (any other failure fails). */
async function typedOrFine(call: () => unknown): Promise<'ok' | string> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    if (error instanceof LlamaError) return error.code;
    throw new Error(`not a LlamaError: ${String(error)}`);
  }
}

const WEIRD = [
  undefined,
  null,
  0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  '',
  'x',
  true,
  [],
  {},
  () => 1,
  Symbol('s'),
  10n,
];

describe('every public method, every weird argument', () => {
  const methods: Record<string, (value: unknown) => unknown> = {
    'LlamaModel.load(path)': (v) => LlamaModel.load(v as never),
    'LlamaModel.load(options)': (v) => LlamaModel.load(path, v as never),
    'LlamaModel.load(contextSize)': (v) => LlamaModel.load(path, { contextSize: v } as never),
    'generate(prompt)': (v) => model.generate(v as never, { maxTokens: 2 }),
    'generate(options)': (v) => model.generate('Hello', v as never),
    'generate(maxTokens)': (v) => model.generate('Hello', { maxTokens: v } as never),
    'generate(temperature)': (v) => model.generate('Hello', { maxTokens: 2, temperature: v } as never),
    'generate(stop)': (v) => model.generate('Hello', { maxTokens: 2, stop: v } as never),
    'generate(logitBias)': (v) => model.generate('Hello', { maxTokens: 2, logitBias: v } as never),
    'generate(grammar)': (v) => model.generate('Hello', { maxTokens: 2, grammar: v } as never),
    'generate(jsonSchema)': (v) => model.generate('Hello', { maxTokens: 2, jsonSchema: v } as never),
    'generate(signal)': (v) => model.generate('Hello', { maxTokens: 2, signal: v } as never),
    'generate(onToken)': (v) => model.generate('Hello', { maxTokens: 2, onToken: v } as never),
    'stream(prompt)': async (v) => {
      for await (const chunk of model.stream(v as never, { maxTokens: 2 })) void chunk;
    },
    'chat(messages)': (v) => model.chat(v as never, { maxTokens: 2, template: 'chatml' }),
    'formatChat(template)': (v) => model.formatChat([{ role: 'user', content: 'x' }], { template: v } as never),
    'tokenize(text)': (v) => model.tokenize(v as never),
    'tokenize(options)': (v) => model.tokenize('x', v as never),
    'detokenize(tokens)': (v) => model.detokenize(v as never),
    'detokenize([token])': (v) => model.detokenize([v] as never),
    'embed(text)': (v) => model.embed(v as never),
    'LocalProvider(options)': (v) => new LocalProvider(v as never).parseJob('x'),
    'parseJob(posting)': (v) => LocalProvider.withModelPath(path).parseJob(v as never),
  };
  test.each(Object.entries(methods))('%s', async (_name, call) => {
    for (const value of WEIRD) {
      const outcome = await typedOrFine(() => call(value));
      expect(typeof outcome).toBe('string');
    }
  });
});

describe('strange text', () => {
  test.each([
    ['a lone high surrogate', 'abc\uD800def'],
    ['a lone low surrogate', '\uDC00'],
    ['NUL characters', 'a\0b\0c'],
    ['control characters', '\u0001\u0002\u001b[31m'],
    ['right-to-left and combining marks', 'שלום e\u0301\u200f'],
    ['only whitespace', '   \n\t '],
  ])('%s: tokenize, generate, stream, embed work', async (_what, text) => {
    const tokens = await model.tokenize(text);
    expect(tokens.length).toBeGreaterThan(0);
    expect(typeof (await model.detokenize(tokens))).toBe('string');
    expect((await model.generate(text, { temperature: 0, maxTokens: 3 })).tokens).toHaveLength(3);
    expect(await model.embed(text)).toBeInstanceOf(Float32Array);
  });

  test('an empty prompt still has its BOS; an empty text embeds', async () => {
    expect((await model.generate('', { temperature: 0, maxTokens: 2 })).tokens).toHaveLength(2);
    expect(await model.tokenize('', { addSpecial: false })).toEqual([]);
  });

  test('a 10 MB prompt is CONTEXT_OVERFLOW, promptly, and the model still works', async () => {
    await expect(model.generate('word '.repeat(2_000_000))).rejects.toMatchObject({ code: 'CONTEXT_OVERFLOW' });
    expect((await model.generate('Hello', { temperature: 0, maxTokens: 2 })).tokens).toHaveLength(2);
  });

  test('a stop string longer than anything generated, and many stop strings', async () => {
    const result = await model.generate('Hello', {
      temperature: 0,
      maxTokens: 8,
      stop: ['x'.repeat(10_000), ...Array.from({ length: 500 }, (_, i) => `§${i}§`)],
    });
    expect(result.stopReason).toBe('maxTokens');
  });
});

describe('call orders', () => {
  test('64 concurrent callers with random aborts: every call settles, typed', async () => {
    let state = 12345;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const calls = Array.from({ length: 64 }, async (_, i) => {
      const controller = new AbortController();
      const kind = i % 4;
      const run =
        kind === 0
          ? model.generate(`caller ${i}`, { maxTokens: 20, signal: controller.signal })
          : kind === 1
            ? (async () => {
                const chunks: string[] = [];
                for await (const chunk of model.stream(`caller ${i}`, { maxTokens: 20, signal: controller.signal }))
                  chunks.push(chunk.text);
                return chunks;
              })()
            : kind === 2
              ? model.embed(`caller ${i}`)
              : model.generate(`caller ${i}`, {
                  maxTokens: 10,
                  jsonSchema: { type: 'integer', minimum: 0, maximum: 99 },
                  signal: controller.signal,
                });
      setTimeout(() => controller.abort(), Math.floor(random() * 30));
      return typedOrFine(() => run);
    });
    const outcomes = await Promise.all(calls);
    for (const outcome of outcomes) expect(['ok', 'ABORTED', 'INVALID_JSON_OUTPUT']).toContain(outcome);
    expect((await model.generate('after', { temperature: 0, maxTokens: 2 })).tokens).toHaveLength(2);
  });

  test('dispose during load, during prompt evaluation and during generation; then double dispose', async () => {
    const loading = LlamaModel.load(path, { contextSize: 4096 });
    const loaded = await loading;
    const prompt = Array.from({ length: 700 }, (_, i) => `w${i}`).join(' ');
    const duringPrompt = typedOrFine(() => loaded.generate(prompt, { maxTokens: 5 }));
    const duringGeneration = typedOrFine(() =>
      loaded.generate('Hello', { maxTokens: 2000, logitBias: { 2: Number.NEGATIVE_INFINITY } }),
    );
    await new Promise((resolve) => setTimeout(resolve, 2));
    await Promise.all([loaded.dispose(), loaded.dispose()]);
    for (const outcome of await Promise.all([duringPrompt, duringGeneration]))
      expect(['ok', 'DISPOSED']).toContain(outcome);
    await expect(loaded.generate('x')).rejects.toMatchObject({ code: 'DISPOSED' });
    await expect(loaded.embed('x')).rejects.toMatchObject({ code: 'DISPOSED' });
    await expect(loaded.formatChat([{ role: 'user', content: 'x' }])).rejects.toMatchObject({ code: 'DISPOSED' });
  });

  test('the raw addon refuses use after dispose on every handle', async () => {
    const addon = loadAddon();
    const raw = await addon.loadModel(path, {});
    const context = await raw.createContext({ contextSize: 64 });
    const sampler = new addon.Sampler(raw, {});
    sampler.dispose();
    context.dispose();
    raw.dispose();
    raw.dispose();
    context.dispose();
    sampler.dispose();
    expect(() => raw.info()).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
    expect(() => context.memoryClear()).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
    expect(() => sampler.accept(1)).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
    await expect(context.decode([1])).rejects.toMatchObject({ code: 'DISPOSED' });
    await expect(context.embed([1])).rejects.toMatchObject({ code: 'DISPOSED' });
    await expect(raw.grammarMatch('root ::= "a"', [1])).rejects.toMatchObject({ code: 'DISPOSED' });
  });
});
