#!/usr/bin/env node
// Soak: 1,000 load/generate/dispose cycles and 10,000 generate calls on one model, with the
// process's RSS sampled as it goes. Prints the drift after warm-up (it must stay within ±5%) and the
// native handle counts (made must equal freed). Exit 1 when either fails.
//
// Usage: npm run soak [-- --cycles 1000 --calls 10000 --model path/to.gguf]
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { LlamaModel } from '../dist/index.js';
import { loadAddon } from '../dist/native.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    cycles: { type: 'string', default: '1000' },
    calls: { type: 'string', default: '10000' },
    model: { type: 'string', default: join(root, 'test', '.models', 'spmF32.gguf') },
  },
});
if (!existsSync(args.model)) {
  console.error(`no model at ${args.model}: run npm test once (it writes the test models) or pass --model`);
  process.exit(2);
}

const rssMiB = () => process.memoryUsage.rss() / 2 ** 20;
const gc = () => globalThis.gc?.();

/** Runs `count` iterations of `step`, sampling RSS ten times; returns the samples after warm-up. */
async function phase(name, count, step) {
  const samples = [];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await step(i);
    if ((i + 1) % Math.max(1, Math.floor(count / 20)) === 0) {
      gc();
      samples.push(rssMiB());
    }
  }
  const seconds = (performance.now() - started) / 1000;
  // After the first fifth (warm-up), compare the mean of the last third with the mean of the
  // third before it: growth shows as drift; allocator noise averages out.
  const steady = samples.slice(Math.ceil(samples.length / 5));
  const third = Math.max(1, Math.floor(steady.length / 3));
  const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
  const middle = mean(steady.slice(third, 2 * third));
  const last = mean(steady.slice(-third));
  const drift = Math.abs(last - middle) / middle;
  console.log(
    `${name}: ${count} in ${seconds.toFixed(1)} s; RSS ${samples.map((v) => v.toFixed(0)).join(' ')} MiB; ` +
      `drift after warm-up ${(drift * 100).toFixed(1)}%`,
  );
  return drift;
}

const addon = loadAddon();
const before = addon.stats();

const cycleDrift = await phase('load/generate/dispose cycles', Number(args.cycles), async (i) => {
  const model = await LlamaModel.load(args.model, { contextSize: 128 });
  await model.generate(`cycle ${i}`, { temperature: 0, maxTokens: 4 });
  await model.dispose();
});

const model = await LlamaModel.load(args.model, { contextSize: 256, sequences: 4 });
const callDrift = await phase('generate calls on one model', Number(args.calls), async (i) => {
  const options = { temperature: i % 2 ? 0 : 0.8, seed: i, maxTokens: 8 };
  if (i % 4 === 0) await Promise.all([model.generate(`call ${i}`, options), model.generate(`call ${i}b`, options)]);
  else if (i % 4 === 1) for await (const chunk of model.stream(`call ${i}`, options)) void chunk;
  else await model.generate(`call ${i}`, { ...options, stop: ['e'] });
});
await model.dispose();

// A thread-safe function's finalizer runs on a later turn of the event loop: give the last one a
// moment (at most 2 s) before counting, as the handles test does.
const unsettled = (stats) => Object.values(stats).some((counts) => counts.made !== counts.freed);
for (let i = 0; i < 200 && unsettled(addon.stats()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
const after = addon.stats();
let handlesOk = true;
for (const [kind, counts] of Object.entries(after)) {
  const made = counts.made - before[kind].made;
  const freed = counts.freed - before[kind].freed;
  console.log(`${kind}: made ${made}, freed ${freed}`);
  if (made !== freed) handlesOk = false;
}
const ok = cycleDrift <= 0.05 && callDrift <= 0.05 && handlesOk;
console.log(ok ? 'soak: OK' : 'soak: FAILED');
process.exit(ok ? 0 : 1);
