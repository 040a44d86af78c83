// LoRA adapters: greedy output identical to llama-completion --lora-scaled FILE:SCALE, adapters
// switched for later requests while earlier ones finish with theirs, and typed errors for files
// llama.cpp cannot use.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { LlamaModel } from '../../lib/index.js';
import { loadAddon } from '../../lib/native.js';
import { writeLora } from '../fixtures/lora.js';
import { testModelPath } from '../fixtures/models.js';
import { llamaCompletionText } from '../fixtures/oracle.js';
import { haveStories, storiesPath } from '../fixtures/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'llama-napi-lora-'));
const greedy = { temperature: 0, maxTokens: 24 } as const;
const prompt = 'Once upon a time';

/** The base model's shape, from its metadata. */
async function shapeOf(path: string) {
  const model = await LlamaModel.load(path, { vocabOnly: true });
  try {
    const value = (key: string) => Number(model.info.metadata[`llama.${key}`]);
    return {
      embeddingLength: value('embedding_length'),
      layerCount: value('block_count'),
      feedForwardLength: value('feed_forward_length'),
    };
  } finally {
    await model.dispose();
  }
}

const bases: Array<[string, string]> = [['spmF32 (random weights)', testModelPath('spmF32')]];
if (haveStories) bases.push(['stories260K', storiesPath]);

describe.each(bases)('LoRA on %s: greedy text identical to llama-completion', (name, path) => {
  const first = join(dir, `${name.split(' ')[0]}-a.gguf`);
  const second = join(dir, `${name.split(' ')[0]}-b.gguf`);
  let plain: string;
  beforeAll(async () => {
    const shape = await shapeOf(path);
    writeLora(first, { ...shape, seed: 1 });
    writeLora(second, { ...shape, seed: 2, rank: 2, alpha: 2 });
    const model = await LlamaModel.load(path, { contextSize: 128, threads: 2 });
    plain = (await model.generate(prompt, greedy)).text;
    await model.dispose();
  });

  test.each([[[{ path: 'a', scale: 0.7 }]], [[{ path: 'a' }, { path: 'b', scale: 0.5 }]]])('%j', async (adapters) => {
    const files = { a: first, b: second };
    const lora = adapters.map((adapter) => ({ ...adapter, path: files[adapter.path as 'a' | 'b'] }));
    const model = await LlamaModel.load(path, { contextSize: 128, threads: 2, lora });
    try {
      expect(model.info.lora).toEqual(lora.map(({ path: file, scale }) => ({ path: file, scale: scale ?? 1 })));
      const result = await model.generate(prompt, greedy);
      expect(result.text).not.toBe(plain); // the adapter changes the model
      const scaled = lora.map(({ path: file, scale }) => `${file}:${scale ?? 1}`).join(',');
      const flags = ['--temp', '0', '-c', '128', '--lora-scaled', scaled];
      const expected = llamaCompletionText(path, prompt, greedy.maxTokens, flags, result.text.length + 1);
      expect(expected.slice(0, result.text.length)).toBe(result.text);
    } finally {
      await model.dispose();
    }
  });
});

describe('setLora', () => {
  const path = testModelPath('spmF32');
  const adapter = join(dir, 'switch.gguf');
  let model: LlamaModel;
  beforeAll(async () => {
    writeLora(adapter, { ...(await shapeOf(path)), seed: 3 });
    model = await LlamaModel.load(path, { contextSize: 128, threads: 2, sequences: 2 });
  });
  afterAll(() => model.dispose());

  test('applies to requests that start after it; those running finish with what they began with', async () => {
    const long = { temperature: 0, maxTokens: 64 };
    const plain = await model.generate(prompt, long);
    await model.setLora([{ path: adapter }]);
    const adapted = await model.generate(prompt, long);
    expect(adapted.tokens).not.toEqual(plain.tokens);
    await model.setLora([]);
    expect(model.info.lora).toEqual([]);

    // A plain request runs; the adapter is set; a request after it waits for the plain one.
    const running = model.generate(prompt, long);
    await model.setLora([{ path: adapter, scale: 1 }]);
    const after = model.generate(prompt, long);
    expect((await running).tokens).toEqual(plain.tokens);
    expect((await after).tokens).toEqual(adapted.tokens);
    // And back: the cache the adapted run left is not reused by a plain one.
    await model.setLora([]);
    expect((await model.generate(prompt, long)).tokens).toEqual(plain.tokens);
  });

  test('a file llama.cpp cannot use is INVALID_LORA, and the adapters stay as they were', async () => {
    const shape = await shapeOf(path);
    const otherArch = join(dir, 'gpt2.gguf');
    writeLora(otherArch, { ...shape, architecture: 'gpt2' });
    const wrongShape = join(dir, 'shape.gguf');
    writeLora(wrongShape, { ...shape, wrongShape: true });
    await model.setLora([{ path: adapter, scale: 0.5 }]);
    const cases: Array<[string, RegExp]> = [
      [otherArch, /arch/],
      [wrongShape, /shape/],
      [path, /adapter/], // a model, not an adapter
    ];
    for (const [file, message] of cases) {
      await expect(model.setLora([{ path: file }])).rejects.toMatchObject({
        code: 'INVALID_LORA',
        message: expect.stringMatching(message),
      });
      expect(model.info.lora).toEqual([{ path: adapter, scale: 0.5 }]);
    }
    await expect(model.setLora([{ path: join(dir, 'absent.gguf') }])).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
    });
    await expect(model.setLora([{ path: adapter, scale: Number.NaN }])).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await expect(model.setLora('x' as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(LlamaModel.load(path, { lora: [{ path: otherArch }] })).rejects.toMatchObject({
      code: 'INVALID_LORA',
    });
    const result = await model.generate(prompt, greedy);
    expect(result.tokens).toHaveLength(greedy.maxTokens);
    await model.setLora([]);
    // The raw addon takes only ids its loadLora() gave.
    const addon = loadAddon();
    const raw = await addon.loadModel(path, {});
    const context = await raw.createContext({ contextSize: 64, threads: 2 });
    try {
      const id = await raw.loadLora(adapter);
      for (const bad of [Number.NaN, 1e300, id + 0.5, -1, id + 1]) {
        await expect(context.generate({ tokens: [1], maxTokens: 1, lora: [[bad, 1]] })).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
        });
      }
      const ok = await context.generate({ tokens: [1], maxTokens: 1, lora: [[id, 1]] });
      expect(ok.tokens).toHaveLength(1);
    } finally {
      context.dispose();
      raw.dispose();
    }
  });
});
