// Context shift and ignoreEos: generation past a full context, token for token as llama.cpp's
// llama-completion --context-shift --keep K does it; neutral for later requests and for parallel
// sequences; a typed error where the model's memory cannot shift.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { LlamaModel, type GenerateOptions } from '../../lib/index.js';
import { testModelPath } from '../fixtures/models.js';
import { llamaArchModels, llamaCompletionText } from '../fixtures/oracle.js';
import { haveStories, storiesPath } from '../fixtures/paths.js';

const models: Array<[string, string, string]> = [
  ['spmF32 (random weights)', testModelPath('spmF32'), 'Hello my name is'],
];
if (haveStories) models.push(['stories260K', storiesPath, 'Once upon a time, there was a little dog']);

describe.each(models)('context shift on %s', (_name, path, prompt) => {
  let model: LlamaModel;
  beforeAll(async () => {
    model = await LlamaModel.load(path, { contextSize: 256, threads: 2, sequences: 2 });
  });
  afterAll(() => model.dispose());

  test.each([0, 4])('greedy text through several shifts equals llama-completion --keep %i', async (keep) => {
    const options: GenerateOptions = { temperature: 0, maxTokens: 600, ignoreEos: true, contextShift: { keep } };
    const result = await model.generate(prompt, options);
    expect(result.stopReason).toBe('maxTokens');
    expect(result.tokens).toHaveLength(600);
    const flags = ['-c', '256', '--temp', '0', '--ignore-eos', '--context-shift', '--keep', String(keep)];
    const expected = llamaCompletionText(path, prompt, 600, flags, result.text.length + 1);
    expect(expected.slice(0, result.text.length)).toBe(result.text);
  });

  test('without it the generation stops with contextFull; a shifted one leaves no trace', async () => {
    const full = await model.generate(prompt, { temperature: 0, maxTokens: 600, ignoreEos: true });
    expect(full.stopReason).toBe('contextFull');
    // Every cell holds a token; the last token sampled (from the last cell's logits) needs none.
    expect(full.timings.promptTokens + full.tokens.length).toBe(model.contextSize + 1);
    const shifted = await model.generate(prompt, {
      temperature: 0,
      maxTokens: 600,
      ignoreEos: true,
      contextShift: true,
    });
    // Up to the first shift the two are the same generation.
    expect(shifted.tokens.slice(0, full.tokens.length - 1)).toEqual(full.tokens.slice(0, -1));
    // The same prompt again, reusing the cache the shifted run left.
    const again = await model.generate(prompt, { temperature: 0, maxTokens: 600, ignoreEos: true, contextShift: true });
    expect(again.tokens).toEqual(shifted.tokens);
  });

  // On random weights the top tokens are often a hair apart, and ggml's sums for a batch of two
  // sequences differ in the last bits from those for one: parallel runs of such a model part ways
  // with solo ones, shift or not. A trained model's choices are clear.
  test.skipIf(path !== storiesPath)('shifting sequences side by side give their solo text', async () => {
    const options: GenerateOptions = { temperature: 0, maxTokens: 500, ignoreEos: true, contextShift: { keep: 1 } };
    const [first, second] = await Promise.all([model.generate(prompt, options), model.generate('The', options)]);
    expect(first.tokens).toEqual((await model.generate(prompt, options)).tokens);
    expect(second.tokens).toEqual((await model.generate('The', options)).tokens);
  });
});

describe('ignoreEos and contextShift options', () => {
  let model: LlamaModel;
  beforeAll(async () => {
    model = await LlamaModel.load(testModelPath('spmF32'), { contextSize: 64, threads: 2 });
  });
  afterAll(() => model.dispose());

  test('ignoreEos never samples an end-of-generation token', async () => {
    // A bias that makes EOS (id 2) the only choice: without ignoreEos the generation ends at once.
    const eos = await model.generate('Hello', { temperature: 0, maxTokens: 8, logitBias: { 2: 1000 } });
    expect(eos).toMatchObject({ stopReason: 'eog', tokens: [] });
    const past = await model.generate('Hello', {
      temperature: 0,
      maxTokens: 8,
      logitBias: { 2: 1000 },
      ignoreEos: true,
    });
    expect(past.stopReason).toBe('maxTokens');
    expect(past.tokens).toHaveLength(8);
    expect(past.tokens).not.toContain(2);
  });

  test.each([
    [{ contextShift: 'yes' }, /contextShift must be an object/],
    [{ contextShift: { keep: -1 } }, /contextShift\.keep must be an integer/],
    [{ contextShift: { kept: 1 } }, /contextShift has no option "kept"/],
    [{ ignoreEos: 1 }, /ignoreEos must be a boolean/],
  ])('%j is INVALID_OPTION', async (options, message) => {
    await expect(model.generate('Hello', options as GenerateOptions)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(message),
    });
  });
});

describe('a model whose memory cannot shift', () => {
  test.each(['mamba', 'jamba'])('%s rejects contextShift with UNSUPPORTED, and generates without it', async (arch) => {
    const path = llamaArchModels(`^${arch}$`).get(`${arch}-dense`)!;
    const model = await LlamaModel.load(path, { contextSize: 64, threads: 2 });
    try {
      await expect(model.generate('Hello', { maxTokens: 4, contextShift: true })).rejects.toMatchObject({
        code: 'UNSUPPORTED',
        message: expect.stringContaining('cannot shift'),
      });
      const result = await model.generate('Hello', { temperature: 0, maxTokens: 4 });
      expect(result.tokens.length).toBeGreaterThan(0);
    } finally {
      await model.dispose();
    }
  });
});
