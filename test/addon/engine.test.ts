// The generation engine through LlamaModel: streaming, stop strings, the sampler chain, grammars,
// parallel sequences with continuous batching, prompt-cache reuse and context limits.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { LlamaError, LlamaModel, type TokenChunk } from '../../lib/index.js';
import { testModelPath } from '../fixtures/models.js';

const path = testModelPath('spmF32');
let model: LlamaModel;

beforeAll(async () => {
  model = await LlamaModel.load(path, { contextSize: 256, sequences: 4 });
});
afterAll(async () => {
  await model.dispose();
});

describe('LlamaModel.stream', () => {
  test('yields the tokens and text of the same greedy generate()', async () => {
    const expected = await model.generate('Hello my name is', { temperature: 0, maxTokens: 24 });
    const stream = model.stream('Hello my name is', { temperature: 0, maxTokens: 24 });
    const chunks: TokenChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.token)).toEqual(expected.tokens);
    expect(chunks.map((c) => c.text).join('')).toBe(expected.text);
    expect((await stream.result).tokens).toEqual(expected.tokens);
  });

  test('breaking out of the loop stops the generation', async () => {
    const stream = model.stream('Hello', { temperature: 0 });
    let seen = 0;
    for await (const chunk of stream) {
      expect(typeof chunk.text).toBe('string');
      if (++seen === 3) break;
    }
    const result = await stream.result;
    expect(result.stopReason).toBe('abort');
    expect(result.tokens.length).toBeGreaterThanOrEqual(3);
    expect(result.tokens.length).toBeLessThan(200);
  });

  test('a character split over byte tokens arrives whole, with its last token', async () => {
    // In the SPM vocabulary bytes are tokens 3 + byte: "€" = E2 82 AC = tokens 229, 133, 175.
    const euro = [0xe2, 0x82, 0xac].map((byte) => byte + 3);
    const stream = model.stream('Price:', {
      temperature: 0,
      maxTokens: 3,
      grammar: 'root ::= "€"',
      logitBias: Object.fromEntries(euro.map((token) => [token, 100])),
    });
    const chunks: TokenChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks).toEqual([
      { token: euro[0], text: '' },
      { token: euro[1], text: '' },
      { token: euro[2], text: '€' },
    ]);
    expect((await stream.result).text).toBe('€');
  });

  test('stream() refuses onToken and checks options at once', () => {
    expect(() => model.stream('x', { onToken: () => {} } as never)).toThrow(LlamaError);
    expect(() => model.stream('x', { topP: 2 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});

describe('stop strings', () => {
  test('stop at a string spanning tokens: the text ends right before it', async () => {
    const full = await model.generate('Hello my name is', { temperature: 0, maxTokens: 40 });
    // A stop string that starts inside one token's piece and ends inside a later one.
    const middle = Math.floor(full.text.length / 2);
    const stop = full.text.slice(middle, middle + 6);
    const expectedText = full.text.slice(0, full.text.indexOf(stop));
    const chunks: TokenChunk[] = [];
    const result = await model.generate('Hello my name is', {
      temperature: 0,
      maxTokens: 40,
      stop: [stop],
      onToken: (c) => chunks.push(c),
    });
    expect(result.stopReason).toBe('stop');
    expect(result.text).toBe(expectedText);
    expect(chunks.map((c) => c.text).join('')).toBe(expectedText);
    expect(result.tokens).toEqual(full.tokens.slice(0, result.tokens.length));
    // It stopped on the token that completed the stop string.
    const pieces = await Promise.all(result.tokens.map((t) => model.detokenize([t])));
    expect(result.tokens.length).toBeLessThan(full.tokens.length);
    expect(pieces.length).toBe(result.tokens.length);
  });

  test('the earliest of several stop strings wins; a stop string never seen changes nothing', async () => {
    const full = await model.generate('Hello', { temperature: 0, maxTokens: 30 });
    const a = full.text.slice(20, 24);
    const b = full.text.slice(10, 13);
    const result = await model.generate('Hello', { temperature: 0, maxTokens: 30, stop: [a, b, '\u0000never'] });
    expect(result.text).toBe(full.text.slice(0, Math.min(full.text.indexOf(a), full.text.indexOf(b))));
    const none = await model.generate('Hello', { temperature: 0, maxTokens: 30, stop: ['\u0000never'] });
    expect(none).toMatchObject({ text: full.text, stopReason: 'maxTokens' });
  });
});

describe('sampling options', () => {
  test('logitBias: -Infinity forbids the greedy choice, +100 forces a token', async () => {
    const base = await model.generate('Hello', { temperature: 0, maxTokens: 1 });
    const first = base.tokens[0] as number;
    const banned = await model.generate('Hello', {
      temperature: 0,
      maxTokens: 1,
      logitBias: { [first]: Number.NEGATIVE_INFINITY },
    });
    expect(banned.tokens[0]).not.toBe(first);
    const forced = await model.generate('Hello', { temperature: 0, maxTokens: 5, logitBias: new Map([[1234, 100]]) });
    expect(forced.tokens).toEqual([1234, 1234, 1234, 1234, 1234]);
  });

  test('repetition penalties change a repetitive greedy output', async () => {
    const forced = { temperature: 0, maxTokens: 6, logitBias: { 1234: 20 } };
    const plain = await model.generate('Hello', forced);
    const penalized = await model.generate('Hello', { ...forced, repeatPenalty: 1e6, penaltyLastN: 64 });
    expect(plain.tokens).toEqual([1234, 1234, 1234, 1234, 1234, 1234]);
    expect(new Set(penalized.tokens).size).toBe(6);
    const presence = await model.generate('Hello', { ...forced, presencePenalty: 1000 });
    expect(new Set(presence.tokens).size).toBe(6);
  });

  test('every option together: same seed, same output', async () => {
    const options = {
      temperature: 1.2,
      topK: 50,
      topP: 0.9,
      minP: 0.01,
      typicalP: 0.95,
      repeatPenalty: 1.1,
      frequencyPenalty: 0.2,
      presencePenalty: 0.1,
      penaltyLastN: 32,
      seed: 7,
      maxTokens: 20,
    };
    const a = await model.generate('Hello', options);
    const b = await model.generate('Hello', options);
    expect(b.tokens).toEqual(a.tokens);
  });

  test.each([
    [{ typicalP: 1.5 }, /typicalP/],
    [{ repeatPenalty: 0 }, /repeatPenalty/],
    [{ penaltyLastN: -1 }, /penaltyLastN/],
    [{ frequencyPenalty: Number.NaN }, /frequencyPenalty/],
    [{ logitBias: { 99999: 1 } }, /logitBias key/],
    [{ logitBias: { 5: Number.NaN } }, /logitBias\[5\]/],
    [{ logitBias: [[1, 2]] }, /logitBias/],
    [{ stop: [''] }, /stop/],
    [{ stop: 'x' }, /stop/],
    [{ grammar: '' }, /grammar/],
  ])('%j is INVALID_OPTION', async (options, message) => {
    await expect(model.generate('Hello', options as never)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(message),
    });
  });
});

describe('grammars', () => {
  test('greedy output follows the grammar even on random weights', async () => {
    const grammar = 'root ::= ("yes" | "no") " " [0-9] [0-9]';
    for (const prompt of ['Hello', 'Is it?', 'Once upon a time']) {
      const result = await model.generate(prompt, { temperature: 0, grammar, maxTokens: 20 });
      expect(result.text).toMatch(/^(yes|no) [0-9]{2}$/);
      expect(result.stopReason).toBe('eog');
    }
  });

  test('sampled output follows the grammar too', async () => {
    const grammar = 'root ::= "[" item ("," item)* "]"\nitem ::= [a-c]{1,3}';
    for (let seed = 1; seed <= 5; seed++) {
      const result = await model.generate('List:', {
        temperature: 1.5,
        topK: 0,
        topP: 1,
        minP: 0,
        seed,
        grammar,
        maxTokens: 60,
      });
      if (result.stopReason === 'eog') expect(result.text).toMatch(/^\[[a-c]{1,3}(,[a-c]{1,3})*\]$/);
      else expect(result.text).toMatch(/^\[[a-c]{1,3}(,[a-c]{1,3})*,?[a-c]{0,3}$/);
    }
  });

  test.each([
    ['a syntax error', 'root ::= "unterminated', /llama\.cpp rejected the grammar/],
    ['an undefined rule', 'root ::= missing', /llama\.cpp rejected the grammar/],
    ['left recursion', 'root ::= root "a" | "b"', /llama\.cpp rejected the grammar/],
    ['no root rule', 'other ::= "a"', /llama\.cpp rejected the grammar/],
    ['deep nesting', `root ::= ${'('.repeat(5000)}"a"${')'.repeat(5000)}`, /nests groups deeper than 200/],
  ])('%s is INVALID_GRAMMAR, and the model still works', async (_what, grammar, message) => {
    await expect(model.generate('Hello', { grammar, maxTokens: 4 })).rejects.toMatchObject({
      code: 'INVALID_GRAMMAR',
      message: expect.stringMatching(message),
    });
    expect((await model.generate('Hello', { temperature: 0, maxTokens: 2 })).tokens).toHaveLength(2);
  });

  test('a grammar no token can satisfy ends with SAMPLER_FAILED, not an abort', async () => {
    // Only the byte token <0x01> (id 3 + 1) can spell "\x01"; forbidding it leaves no token at all.
    const result = model.generate('Hello', {
      temperature: 0,
      grammar: 'root ::= "\\x01"',
      logitBias: { 4: Number.NEGATIVE_INFINITY },
      maxTokens: 3,
    });
    await expect(result).rejects.toMatchObject({
      code: 'SAMPLER_FAILED',
      message: expect.stringMatching(/no token is allowed/),
    });
    expect(
      (await model.generate('Hello', { temperature: 0, grammar: 'root ::= "\\x01"', maxTokens: 3 })).tokens,
    ).toEqual([4]);
  });
});

describe('parallel sequences', () => {
  const prompts = [
    'Hello my name is',
    'The quick brown fox',
    'Once upon a time',
    'In a hole in the ground',
    'To be or not to be',
    'A B C',
  ];

  test('concurrent greedy requests give exactly what each gives alone', async () => {
    const alone: number[][] = [];
    for (const prompt of prompts) alone.push((await model.generate(prompt, { temperature: 0, maxTokens: 16 })).tokens);
    // 6 requests on 4 sequences: two wait for a free sequence.
    const together = await Promise.all(
      prompts.map((prompt) => model.generate(prompt, { temperature: 0, maxTokens: 16 })),
    );
    expect(together.map((r) => r.tokens)).toEqual(alone);
  });

  test('64 concurrent callers on 4 sequences all finish (no "no sequences left")', async () => {
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => model.generate(`Request ${i}`, { temperature: 0, maxTokens: 3 })),
    );
    for (const result of results) expect(result.tokens).toHaveLength(3);
  });

  test('streams and generations interleave, each with its own tokens', async () => {
    const solo = await model.generate('Once upon a time', { temperature: 0, maxTokens: 10 });
    const stream = model.stream('Once upon a time', { temperature: 0, maxTokens: 10 });
    const other = model.generate('The quick brown fox', { temperature: 0, maxTokens: 10 });
    const tokens: number[] = [];
    for await (const chunk of stream) tokens.push(chunk.token);
    expect(tokens).toEqual(solo.tokens);
    expect((await other).tokens).toHaveLength(10);
  });

  test('aborting one request leaves the others running', async () => {
    const controller = new AbortController();
    const a = model.generate('Hello', {
      temperature: 0,
      maxTokens: 200,
      signal: controller.signal,
      onToken: () => controller.abort(),
    });
    const b = model.generate('Hello my name is', { temperature: 0, maxTokens: 20 });
    expect((await a).stopReason).toBe('abort');
    expect((await b).tokens).toHaveLength(20);
  });
});

describe('prompt-cache reuse', () => {
  test('a request sharing a prefix with a finished one reuses its cache, with the same output', async () => {
    await using fresh = await LlamaModel.load(path, { contextSize: 512 });
    const prefix =
      'In a hole in the ground there lived a hobbit. Not a nasty, dirty, wet hole, filled with the ends of worms';
    const first = await fresh.generate(prefix, { temperature: 0, maxTokens: 4 });
    expect(first.timings.reusedTokens).toBe(0);
    const second = await fresh.generate(`${prefix} and an oozy smell`, { temperature: 0, maxTokens: 8 });
    const prefixTokens = (await fresh.tokenize(prefix)).length;
    expect(second.timings.reusedTokens).toBeGreaterThanOrEqual(prefixTokens - 1);
    // The same prompt on another model instance, without any cache, gives the same tokens.
    await using cold = await LlamaModel.load(path, { contextSize: 512 });
    const expected = await cold.generate(`${prefix} and an oozy smell`, { temperature: 0, maxTokens: 8 });
    expect(expected.timings.reusedTokens).toBe(0);
    expect(second.tokens).toEqual(expected.tokens);
    // Repeating the very same prompt re-evaluates only its last token.
    const again = await fresh.generate(`${prefix} and an oozy smell`, { temperature: 0, maxTokens: 8 });
    expect(again.timings.reusedTokens).toBe(again.timings.promptTokens - 1);
    expect(again.tokens).toEqual(expected.tokens);
  });
});

describe('abort during prompt evaluation', () => {
  test('a signal stops a long prompt between batches: stopReason abort, nothing generated', async () => {
    await using big = await LlamaModel.load(path, { contextSize: 4096, batchSize: 32 });
    const controller = new AbortController();
    const prompt = Array.from({ length: 1200 }, (_, i) => `w${i % 50}`).join(' ');
    const run = big.generate(prompt, { temperature: 0, maxTokens: 5, signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    const result = await run;
    expect(result.stopReason).toBe('abort');
    expect(result.tokens).toEqual([]);
    // The model is healthy, and the part of the prompt already evaluated is reused next time.
    const again = await big.generate(prompt, { temperature: 0, maxTokens: 2 });
    expect(again.tokens).toHaveLength(2);
  });
});

describe('context limits', () => {
  test('a prompt longer than a sequence is CONTEXT_OVERFLOW before any native work', async () => {
    await expect(model.generate('word '.repeat(300))).rejects.toMatchObject({ code: 'CONTEXT_OVERFLOW' });
  });

  test('each sequence holds contextSize tokens: a full one stops with contextFull', async () => {
    expect(model.contextSize).toBe(256);
    const result = await model.generate('Hello', { temperature: 0, logitBias: { 2: Number.NEGATIVE_INFINITY } });
    expect(result.stopReason).toBe('contextFull');
    expect(result.timings.promptTokens + result.tokens.length).toBe(257);
  });
});
