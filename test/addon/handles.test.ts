// Every native handle is freed exactly once: the addon counts handles made and freed per kind,
// and after any mix of use and dispose the two counts meet — no leak, no double free.
import { describe, expect, test } from 'vitest';

import { LlamaModel } from '../../lib/index.js';
import { loadAddon } from '../../lib/native.js';
import { testModelPath } from '../fixtures/models.js';

const path = testModelPath('spmF32');
const addon = loadAddon();
const live = () =>
  Object.fromEntries(Object.entries(addon.stats()).map(([kind, { made, freed }]) => [kind, made - freed]));
/** Thread-safe functions are finalized by Node a little after their release: waits for that. */
async function settled(before: Record<string, number>) {
  for (let i = 0; i < 200 && live().channels !== before.channels; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  return live();
}

describe('native handles', () => {
  test('made and freed meet after load, generate, embed, chat and dispose cycles', async () => {
    const before = live();
    for (let i = 0; i < 10; i++) {
      const model = await LlamaModel.load(path, { contextSize: 128, sequences: 2 });
      await Promise.all([
        model.generate('Hello', { maxTokens: 3 }),
        model.embed('x'),
        model.generate('a', { maxTokens: 2, stop: ['x'] }),
      ]);
      const during = live();
      expect(during.models).toBe((before.models ?? 0) + 1);
      expect(during.contexts).toBe((before.contexts ?? 0) + 2);
      if (i % 2 === 0) void model.generate('late', { maxTokens: 500 }).catch(() => undefined);
      await model.dispose();
    }
    expect(await settled(before)).toEqual(before);
    expect(Object.keys(before)).toEqual(['models', 'contexts', 'samplers', 'engines', 'channels']);
  });

  test('raw handles: samplers, contexts and models disposed in any order', async () => {
    const before = live();
    for (const order of [0, 1, 2]) {
      const model = await addon.loadModel(path, {});
      const context = await model.createContext({ contextSize: 64 });
      const sampler = new addon.Sampler(model, { temperature: 0 });
      await context.decode([1, 15043]);
      await context.sample(sampler);
      const all = [() => model.dispose(), () => context.dispose(), () => sampler.dispose()];
      for (let k = 0; k < all.length; k++) all[(k + order) % all.length]?.();
    }
    expect(await settled(before)).toEqual(before);
    const stats = addon.stats();
    for (const counts of Object.values(stats)) expect(counts.freed).toBeLessThanOrEqual(counts.made);
  });
});
