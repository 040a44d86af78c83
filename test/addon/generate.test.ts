// generate(): greedy parity with llama.cpp's own llama-simple (built from the same vendor tree),
// streaming, sampling determinism, stop reasons and timings, on generated random-weight models.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { LlamaModel, type TokenChunk } from '../../lib/index.js';
import { testModelPath, type TestModelName } from '../fixtures/models.js';
import { runLlamaSimple } from '../fixtures/oracle.js';
import { pieceBytes } from '../fixtures/pieces.js';

/** What llama-simple prints for a greedy run: the prompt's pieces, the generated pieces
 *  (special tokens rendered), then a newline. */
async function simpleOutput(path: string, prompt: number[], generated: number[]): Promise<Buffer> {
  return Buffer.concat([
    await pieceBytes(path, prompt, true),
    await pieceBytes(path, generated, true),
    Buffer.from('\n'),
  ]);
}

describe('LlamaModel.generate: greedy parity with llama-simple', () => {
  const cases: Array<[TestModelName, string, number]> = [
    ['spmF32', 'Hello my name is', 32],
    ['spmF16', 'The quick brown fox', 32],
    ['spmQ8', 'Once upon a time', 32],
    ['bpeF32', 'Hello, world! Привет, мир!', 24],
  ];
  test.each(cases)('%s: %j, %i tokens', async (name, prompt, maxTokens) => {
    const path = testModelPath(name);
    const expected = runLlamaSimple(path, prompt, maxTokens);
    await using model = await LlamaModel.load(path, { contextSize: 128, threads: 2 });
    const result = await model.generate(prompt, { temperature: 0, maxTokens });
    expect(result.stopReason === 'maxTokens' ? result.tokens.length : maxTokens).toBe(maxTokens);
    const promptTokens = await model.tokenize(prompt, { parseSpecial: true });
    expect(await simpleOutput(path, promptTokens, result.tokens)).toEqual(expected);
    expect(result.text).toBe((await pieceBytes(path, result.tokens, false)).toString('utf8'));
  });

  test('a prompt longer than the batch is evaluated in batches with the same result', async () => {
    const path = testModelPath('spmF32');
    const prompt =
      'In a hole in the ground there lived a hobbit. ' +
      'Not a nasty, dirty, wet hole, filled with the ends of worms and an oozy smell';
    const expected = runLlamaSimple(path, prompt, 16);
    await using model = await LlamaModel.load(path, { contextSize: 128, batchSize: 8 });
    const promptTokens = await model.tokenize(prompt, { parseSpecial: true });
    expect(promptTokens.length).toBeGreaterThan(3 * 8);
    const result = await model.generate(prompt, { temperature: 0, maxTokens: 16 });
    expect(await simpleOutput(path, promptTokens, result.tokens)).toEqual(expected);
  });
});

describe('LlamaModel.generate: behaviour', () => {
  let model: LlamaModel;
  beforeAll(async () => {
    model = await LlamaModel.load(testModelPath('spmF32'), { contextSize: 64 });
  });
  afterAll(async () => {
    await model.dispose();
  });

  test('onToken streams every token, in order, and the chunks add up to the text', async () => {
    const chunks: TokenChunk[] = [];
    const result = await model.generate('Hello', {
      temperature: 0,
      maxTokens: 20,
      onToken: (chunk) => chunks.push(chunk),
    });
    expect(chunks.map((chunk) => chunk.token)).toEqual(result.tokens);
    expect(chunks.map((chunk) => chunk.text).join('')).toBe(result.text);
  });

  test('greedy generation is deterministic', async () => {
    const first = await model.generate('Hello', { temperature: 0, maxTokens: 12 });
    const second = await model.generate('Hello', { temperature: 0, maxTokens: 12 });
    expect(second.tokens).toEqual(first.tokens);
  });

  test('same seed, same output; another seed, another output', async () => {
    const options = { temperature: 1.5, topK: 0, topP: 1, minP: 0, maxTokens: 24 };
    const a = await model.generate('Hello', { ...options, seed: 42 });
    const b = await model.generate('Hello', { ...options, seed: 42 });
    const c = await model.generate('Hello', { ...options, seed: 43 });
    expect(b.tokens).toEqual(a.tokens);
    expect(c.tokens).not.toEqual(a.tokens);
  });

  test('maxTokens: 0 generates nothing', async () => {
    const result = await model.generate('Hello', { maxTokens: 0 });
    expect(result).toMatchObject({ text: '', tokens: [], stopReason: 'maxTokens' });
  });

  test('without maxTokens, generation fills the context and stops with contextFull', async () => {
    // llama.cpp rounds the context up to a multiple of 256 tokens: the size reported is the real one.
    expect(model.contextSize).toBe(256);
    const promptTokens = await model.tokenize('Hello world');
    const result = await model.generate('Hello world', { temperature: 0 });
    expect(result.stopReason).toBe('contextFull');
    // The last token is sampled from a full context, so it is returned but never decoded.
    expect(promptTokens.length + result.tokens.length).toBe(model.contextSize + 1);
  });

  test('timings count the prompt and the generated tokens', async () => {
    const result = await model.generate('Hello my name is', { temperature: 0, maxTokens: 5 });
    expect(result.timings.promptTokens).toBe((await model.tokenize('Hello my name is')).length);
    expect(result.timings.generatedTokens).toBe(5);
    expect(result.timings.promptMs).toBeGreaterThan(0);
    expect(result.timings.generateMs).toBeGreaterThan(0);
  });

  test('concurrent calls run one after another, each with its own correct result', async () => {
    const alone = await model.generate('Hello', { temperature: 0, maxTokens: 8 });
    const together = await Promise.all([1, 2, 3].map(() => model.generate('Hello', { temperature: 0, maxTokens: 8 })));
    for (const result of together) expect(result.tokens).toEqual(alone.tokens);
  });
});
