// embed(): pooled, normalized embeddings, equal to what llama.cpp's own llama-embedding prints for
// the same model and text (built from the same tree), and the errors around them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { LlamaModel } from '../../lib/index.js';
import { ensureOracle } from '../fixtures/oracle.js';
import { testModelPath } from '../fixtures/models.js';
import { buildDir } from '../fixtures/paths.js';

const path = testModelPath('spmF32');

/**
 * llama-embedding's mean-pooled, L2-normalized embedding of `text`. Its output goes through
 * llama.cpp's asynchronous logger one number at a time, which under load has printed a mangled line
 * (a value doubled, another dropped: "0.2132970,,0.2132970"), and, as llama-completion's, can lose
 * its output at exit altogether (an empty stdout in 3 runs of 3 on a loaded machine); such a run is
 * repeated, up to 10 times, and a good one is compared.
 */
function llamaEmbedding(text: string): number[] {
  for (let attempt = 1; ; attempt++) {
    try {
      return llamaEmbeddingOnce(text);
    } catch (error) {
      if (attempt === 10) throw error;
    }
  }
}

function llamaEmbeddingOnce(text: string): number[] {
  const run = spawnSync(
    join(buildDir, 'oracle', 'bin', 'llama-embedding'),
    [
      '-m',
      path,
      '-p',
      text,
      '--pooling',
      'mean',
      '--embd-normalize',
      '2',
      '--embd-output-format',
      'array',
      '-t',
      '2',
      '-c',
      '256',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (run.status !== 0) throw new Error(`llama-embedding exited with ${run.status}: ${run.stderr}`);
  const line = run.stdout.split('\n').find((l) => l.startsWith('[['));
  if (line === undefined) throw new Error(`llama-embedding printed no embedding: ${run.stdout}`);
  const vector = (JSON.parse(line) as number[][])[0] as number[];
  if (vector.length !== 64 || vector.some((x) => typeof x !== 'number'))
    throw new Error(`llama-embedding printed a malformed vector: ${line}`);
  return vector;
}

let model: LlamaModel;
beforeAll(async () => {
  ensureOracle('llama-embedding');
  model = await LlamaModel.load(path, { contextSize: 256 });
});
afterAll(async () => {
  await model.dispose();
});

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

describe('LlamaModel.embed', () => {
  test.each(['Senior TypeScript engineer', 'Knows Kubernetes and Go', 'A'])(
    "%j equals llama-embedding's mean-pooled vector",
    async (text) => {
      const ours = await model.embed(text);
      const theirs = llamaEmbedding(text);
      expect(ours).toHaveLength(64);
      expect(theirs).toHaveLength(64);
      // llama-embedding prints 7 decimals; the two runs agree to ~1e-6.
      const worst = Math.max(...Array.from(ours, (value, i) => Math.abs(value - (theirs[i] as number))));
      expect(worst).toBeLessThan(1e-4);
      expect(norm(ours)).toBeCloseTo(1, 5);
    },
  );

  test('normalize: false gives the raw pooled vector, in the same direction', async () => {
    const raw = await model.embed('Hello world', { normalize: false });
    const unit = await model.embed('Hello world');
    const length = norm(raw);
    expect(length).not.toBeCloseTo(1, 2);
    for (let i = 0; i < raw.length; i++) expect((raw[i] as number) / length).toBeCloseTo(unit[i] as number, 5);
  });

  test('embeddings and generation share the model; concurrent embeds all finish', async () => {
    const [a, b, generated] = await Promise.all([
      model.embed('one'),
      model.embed('two'),
      model.generate('Hello', { temperature: 0, maxTokens: 4 }),
    ]);
    expect(a).not.toEqual(b);
    expect(generated.tokens).toHaveLength(4);
    expect(await model.embed('one')).toEqual(a);
  });

  test('a text longer than the context is CONTEXT_OVERFLOW; bad arguments are typed errors', async () => {
    await expect(model.embed('word '.repeat(400))).rejects.toMatchObject({ code: 'CONTEXT_OVERFLOW' });
    await expect(model.embed(5 as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(model.embed('x', { normalize: 'yes' } as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});
