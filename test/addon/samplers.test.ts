// Samplers: seeded output identical to llama.cpp's llama-completion given the same flags (its chain,
// its order), the range checks of the new samplers, and token probabilities checked against the
// logits llama.cpp's llama-debug saves.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { LlamaModel, type GenerateOptions, type TokenChunk } from '../../lib/index.js';
import { loadAddon } from '../../lib/native.js';
import { testModelPath } from '../fixtures/models.js';
import { llamaCompletionText, llamaDebugLogits } from '../fixtures/oracle.js';
import { haveStories, storiesPath } from '../fixtures/paths.js';
import { pieceBytes } from '../fixtures/pieces.js';

/** Sampling options and the llama-completion flags that mean the same. */
const cases: Array<[string, GenerateOptions, string[]]> = [
  ['the default chain', { seed: 42, temperature: 0.9 }, ['--seed', '42', '--temp', '0.9']],
  [
    'top-k, top-p, min-p and typical',
    { seed: 3, temperature: 1.2, topK: 20, topP: 0.9, minP: 0.02, typicalP: 0.9 },
    ['--seed', '3', '--temp', '1.2', '--top-k', '20', '--top-p', '0.9', '--min-p', '0.02', '--typical', '0.9'],
  ],
  [
    'the repetition penalties',
    { seed: 5, repeatPenalty: 1.3, frequencyPenalty: 0.2, presencePenalty: 0.1, penaltyLastN: 32 },
    ['--seed', '5', '--repeat-penalty', '1.3', '--frequency-penalty', '0.2', '--presence-penalty', '0.1'],
  ],
  [
    'DRY',
    { seed: 9, dry: { multiplier: 0.8, base: 1.5, allowedLength: 1, penaltyLastN: 32, sequenceBreakers: ['.', ','] } },
    ['--seed', '9', '--dry-multiplier', '0.8', '--dry-base', '1.5', '--dry-allowed-length', '1'],
  ],
  [
    'XTC',
    { seed: 11, temperature: 1, xtc: { probability: 0.5, threshold: 0.05 } },
    ['--seed', '11', '--temp', '1', '--xtc-probability', '0.5', '--xtc-threshold', '0.05'],
  ],
  [
    'top-n-sigma',
    { seed: 13, temperature: 1.5, topNSigma: 1 },
    ['--seed', '13', '--temp', '1.5', '--top-n-sigma', '1'],
  ],
  [
    'Mirostat 1',
    { seed: 17, mirostat: { version: 1, tau: 3, eta: 0.2 } },
    ['--seed', '17', '--mirostat', '1', '--mirostat-ent', '3', '--mirostat-lr', '0.2'],
  ],
  [
    'Mirostat 2',
    { seed: 19, temperature: 1.1, mirostat: { version: 2, tau: 4 } },
    ['--seed', '19', '--temp', '1.1', '--mirostat', '2', '--mirostat-ent', '4'],
  ],
  [
    'a sampler order of our own',
    { seed: 23, temperature: 1.3, samplers: ['minP', 'temperature', 'topK', 'xtc'], xtc: { probability: 0.3 } },
    ['--seed', '23', '--temp', '1.3', '--samplers', 'min_p;temperature;top_k;xtc', '--xtc-probability', '0.3'],
  ],
  [
    'greedy with DRY and penalties',
    { temperature: 0, dry: { multiplier: 2 }, repeatPenalty: 1.5 },
    ['--temp', '0', '--dry-multiplier', '2', '--repeat-penalty', '1.5'],
  ],
];

// The DRY case's breakers (llama-completion takes each with its own flag).
cases[3]![2].push('--dry-penalty-last-n', '32', '--dry-sequence-breaker', '.', '--dry-sequence-breaker', ',');
cases[2]![2].push('--repeat-last-n', '32');

const models: Array<[string, string]> = [['spmF32 (random weights)', testModelPath('spmF32')]];
if (haveStories) models.push(['stories260K', storiesPath]);

describe.each(models)('samplers on %s: seeded output identical to llama-completion', (_name, path) => {
  let model: LlamaModel;
  beforeAll(async () => {
    model = await LlamaModel.load(path, { contextSize: 256, threads: 2 });
  });
  afterAll(() => model.dispose());

  test.each(cases)('%s', async (_label, options, flags) => {
    const prompt = 'Once upon a time';
    const result = await model.generate(prompt, { ...options, maxTokens: 40 });
    expect(result.stopReason).toBe('maxTokens');
    // llama-completion runs further (see llamaCompletionText); its first 40 tokens are ours.
    const expected = llamaCompletionText(path, prompt, 40, flags, result.text.length + 1);
    expect(expected.length).toBeGreaterThan(result.text.length);
    expect(expected.slice(0, result.text.length)).toBe(result.text);
  });
});

describe('sampler options are checked', () => {
  let model: LlamaModel;
  beforeAll(async () => {
    model = await LlamaModel.load(testModelPath('spmF32'), { contextSize: 64, threads: 2 });
  });
  afterAll(() => model.dispose());

  const bad: Array<[string, GenerateOptions, RegExp]> = [
    ['a negative DRY multiplier', { dry: { multiplier: -1 } }, /dry\.multiplier must be a number from 0/],
    ['a DRY base below 1', { dry: { multiplier: 1, base: 0.5 } }, /dry\.base/],
    ['DRY without its multiplier', { dry: {} as never }, /dry\.multiplier/],
    ['an unknown DRY option', { dry: { multiplier: 1, bogus: 1 } as never }, /dry has no option "bogus"/],
    ['an empty sequence breaker', { dry: { multiplier: 1, sequenceBreakers: [''] } }, /dry\.sequenceBreakers/],
    ['an XTC probability above 1', { xtc: { probability: 1.5 } }, /xtc\.probability/],
    ['Mirostat 3', { mirostat: { version: 3 as never } }, /mirostat\.version must be 1 or 2/],
    ['a Mirostat eta above 1', { mirostat: { version: 2, eta: 2 } }, /mirostat\.eta/],
    ['llama.cpp spelling of a sampler', { samplers: ['top_k' as never] }, /samplers must be an array of sampler names/],
    ['a sampler twice', { samplers: ['topK', 'topK'] }, /each sampler at most once/],
    ['a negative top-n-sigma', { topNSigma: -1 }, /topNSigma/],
    ['21 alternatives', { logprobs: 21 }, /logprobs must be an integer from 0 to 20/],
  ];
  test.each(bad)('%s is INVALID_OPTION', async (_label, options, message) => {
    await expect(model.generate('Hello', options)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(message),
    });
  });

  test('the addon refuses an unknown sampler, a Mirostat version or a DRY base of its own', async () => {
    const native = loadAddon();
    await native.initBackend();
    const raw = await native.loadModel(testModelPath('spmF32'), {});
    const context = await raw.createContext({ contextSize: 64, threads: 2 });
    try {
      const tokens = [1, 15043];
      const sampling = [{ samplers: ['bogus'] }, { mirostat: 3 }, { dryBase: 0.5 }, { drySequenceBreakers: [1] }];
      for (const params of sampling) {
        await expect(context.generate({ tokens, maxTokens: 1, sampling: params as never })).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
        });
      }
      await expect(context.generate({ tokens, maxTokens: 1, logprobs: 21 })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: 'logprobs must be an integer from 0 to 20',
      });
    } finally {
      context.dispose();
      raw.dispose();
    }
  });
});

/** log-softmax of `logits` at `token`. */
function logprobOf(logits: Float32Array, token: number): number {
  let max = -Infinity;
  for (const logit of logits) max = Math.max(max, logit);
  let sum = 0;
  for (const logit of logits) sum += Math.exp(logit - max);
  return logits[token]! - max - Math.log(sum);
}

/** The `n` tokens with the largest logits, largest first (lower id first on ties). */
function topTokens(logits: Float32Array, n: number): number[] {
  return [...logits.keys()].sort((a, b) => logits[b]! - logits[a]! || a - b).slice(0, n);
}

describe('token probabilities (logprobs)', () => {
  const path = haveStories ? storiesPath : testModelPath('spmF32');
  let model: LlamaModel;
  beforeAll(async () => {
    model = await LlamaModel.load(path, { contextSize: 256, threads: 2 });
  });
  afterAll(() => model.dispose());

  test('match the logits llama.cpp computes (llama-debug), and change nothing of the output', async () => {
    const prompt = 'Once upon a time';
    const plain = await model.generate(prompt, { temperature: 0, maxTokens: 12 });
    const chunks: TokenChunk[] = [];
    const result = await model.generate(prompt, {
      temperature: 0,
      maxTokens: 12,
      logprobs: 5,
      onToken: (chunk) => chunks.push(chunk),
    });
    expect(result.tokens).toEqual(plain.tokens);
    expect(result.text).toBe(plain.text);
    expect(plain.logprobs).toBeUndefined();
    const logprobs = result.logprobs!;
    expect(logprobs.map((entry) => entry.token)).toEqual(result.tokens);
    // Each chunk carries its token's entry.
    expect(chunks.filter((chunk) => chunk.logprobs !== undefined).map((chunk) => chunk.logprobs)).toEqual(logprobs);

    const promptTokens = await model.tokenize(prompt, { parseSpecial: true });
    let checked = 0;
    for (let step = 0; step < logprobs.length; step++) {
      const entry = logprobs[step]!;
      expect(entry.top).toHaveLength(5);
      expect(entry.top[0]!.token).toBe(entry.token); // greedy picks the most likely
      expect(entry.top[0]!.logprob).toBe(entry.logprob);
      for (let i = 1; i < 5; i++) expect(entry.top[i]!.logprob).toBeLessThanOrEqual(entry.top[i - 1]!.logprob);
      expect(entry.text).toBe((await pieceBytes(path, [entry.token], false)).toString('utf8'));
      // llama-debug evaluates text: compare at the steps where the text so far tokenizes back to
      // the same tokens.
      const text = prompt + (await model.detokenize(result.tokens.slice(0, step)));
      const retokenized = await model.tokenize(text, { parseSpecial: true });
      if (JSON.stringify(retokenized) !== JSON.stringify([...promptTokens, ...result.tokens.slice(0, step)])) continue;
      const logits = llamaDebugLogits(path, text);
      expect(logits).toHaveLength(model.info.vocabSize);
      expect(entry.top.map((top) => top.token)).toEqual(topTokens(logits, 5));
      // The first step evaluates the same batch as llama-debug; later ones decode one token where
      // llama-debug evaluates the whole text, and ggml's sums for the two differ in the last bits.
      for (const top of entry.top) {
        const expected = logprobOf(logits, top.token);
        const tolerance = step === 0 ? 1e-5 : 2e-3 * Math.max(1, Math.abs(expected));
        expect(Math.abs(top.logprob - expected)).toBeLessThanOrEqual(tolerance);
      }
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  });

  test('a sampled token reports its own probability; logprobs 0 reports no alternatives', async () => {
    const result = await model.generate('Tom had a', { temperature: 1.5, seed: 1, maxTokens: 16, logprobs: 20 });
    let outside = 0;
    for (const entry of result.logprobs!) {
      expect(entry.logprob).toBeLessThanOrEqual(0);
      const listed = entry.top.find((top) => top.token === entry.token);
      if (listed) expect(listed.logprob).toBe(entry.logprob);
      else outside++;
      const mass = entry.top.reduce((sum, top) => sum + Math.exp(top.logprob), 0);
      expect(mass).toBeLessThanOrEqual(1 + 1e-5);
    }
    expect(outside).toBeLessThan(result.tokens.length);
    const bare = await model.generate('Tom had a', { temperature: 0, maxTokens: 4, logprobs: 0 });
    expect(bare.logprobs!.map((entry) => entry.top)).toEqual([[], [], [], []]);
  });
});
