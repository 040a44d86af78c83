#!/usr/bin/env node
// Memory plans: what planning costs. For each model, in the same run: estimateMemory() (llama.cpp's
// fit and one no_alloc measurement, in process) next to llama.cpp's own llama-fit-params (the same
// common_fit_params, as a process: its start-up is in its time), and LlamaModel.load() with the plan
// it always makes next to the raw addon's loadModel + createContext without one (the plan's share of
// a load). Medians of alternating rounds; each plan is checked against the oracle's -c and -ngl.
//
// Models: stories260K, a random 58 M F16 model (8 layers of 512, as bench:rpc's) and a random
// 0.5 B Q8_0 model (24 layers of 1024), or --model M.gguf. Without a GPU the plan weighs the host.
//
// Usage: npm run bench:fit [-- --rounds 5 --context auto --model M.gguf]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { addon } from '../dist/binding.js';
import { createRandomLlama } from '../dist/gguf/index.js';
import { LlamaModel, estimateMemory } from '../dist/index.js';
import { median, ratio, tableRow } from './measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'bench', '.work');
const stories = join(root, '..', 'shared', 'models', 'stories260K.gguf');
const vocab = join(root, 'vendor', 'llama.cpp', 'models', 'ggml-vocab-llama-spm.gguf');
const fitParams = join(root, 'build', 'oracle', 'bin', 'llama-fit-params');

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    context: { type: 'string', default: 'auto' },
    model: { type: 'string' },
  },
});
const rounds = Number(args.rounds);
const contextSize = args.context === 'auto' ? 'auto' : Number(args.context);
const log = (message) => console.error(`[bench] ${message}`);

async function randomModel(name, shape, type) {
  const path = join(work, `${name}.gguf`);
  if (existsSync(path)) return path;
  mkdirSync(work, { recursive: true });
  log(`writing ${name}`);
  await createRandomLlama({ ...shape, type, vocabPath: vocab, outputPath: `${path}.tmp`, seed: 5, name });
  renameSync(`${path}.tmp`, path);
  return path;
}

if (!existsSync(fitParams)) {
  log('building llama-fit-params (node scripts/build-oracle.mjs llama-fit-params)');
  spawnSync(process.execPath, [join(root, 'scripts', 'build-oracle.mjs'), 'llama-fit-params'], { stdio: 'inherit' });
}

const models = args.model
  ? [args.model]
  : [
      ...(existsSync(stories) ? [stories] : []),
      await randomModel(
        'rpc-58m-f16',
        { embeddingLength: 512, layerCount: 8, headCount: 8, feedForwardLength: 1376 },
        'f16',
      ),
      await randomModel(
        'fit-0.5b-q8_0',
        { embeddingLength: 1024, layerCount: 24, headCount: 16, headCountKv: 4, feedForwardLength: 2816 },
        'q8_0',
      ),
    ];

const time = async (work) => {
  const started = performance.now();
  const value = await work();
  return [performance.now() - started, value];
};

const raw = addon();
await raw.initBackend();
const rows = [];
for (const path of models) {
  const name = path.split('/').pop();
  const oracleArgs = [
    '-m',
    path,
    '-b',
    '512',
    '-ub',
    '512',
    ...(contextSize === 'auto' ? [] : ['-c', String(contextSize)]),
  ];
  const times = { estimate: [], oracle: [], load: [], bare: [] };
  let estimate;
  let oracle;
  for (let round = 0; round < rounds + 1; round++) {
    const [estimateMs, planned] = await time(() => estimateMemory(path, { contextSize }));
    const [oracleMs, run] = await time(async () => spawnSync(fitParams, oracleArgs, { encoding: 'utf8' }));
    const [loadMs, model] = await time(() => LlamaModel.load(path, { contextSize }));
    const size = model.contextSize;
    await model.dispose();
    const [bareMs] = await time(async () => {
      const token = new raw.AbortToken();
      const bare = await raw.loadModel(path, { gpuLayers: -1 }, null, token);
      const context = await bare.createContext({ contextSize: size, batchSize: Math.min(512, size) });
      context.dispose();
      bare.dispose();
    });
    if (round === 0) {
      // a warm-up round: the page cache and the backends
      estimate = planned;
      const match = /^-c (\d+) -ngl (-?\d+)/m.exec(run.stdout);
      if (run.status !== 0 || match === null) throw new Error(`llama-fit-params failed: ${run.stderr}`);
      oracle = { contextSize: Number(match[1]), gpuLayers: Number(match[2]) };
      if (oracle.contextSize !== planned.contextSize || oracle.contextSize !== size) {
        throw new Error(
          `${name}: ours ${planned.contextSize}/${size} tokens, llama-fit-params -c ${oracle.contextSize}`,
        );
      }
      continue;
    }
    times.estimate.push(estimateMs);
    times.oracle.push(oracleMs);
    times.load.push(loadMs);
    times.bare.push(bareMs);
  }
  const m = Object.fromEntries(Object.entries(times).map(([key, values]) => [key, median(values)]));
  rows.push(
    tableRow([
      name,
      String(estimate.contextSize),
      `${m.estimate.toFixed(1)} ms`,
      `${m.oracle.toFixed(1)} ms`,
      ratio(m.estimate, m.oracle),
      `${m.load.toFixed(1)} ms`,
      `${m.bare.toFixed(1)} ms`,
      `+${(m.load - m.bare).toFixed(1)} ms`,
    ]),
  );
  log(`${name} done`);
}

console.log(`contextSize ${contextSize}, ${rounds} rounds (medians), the plan and llama-fit-params agreeing on -c`);
console.log(
  tableRow([
    'model',
    'context',
    'estimateMemory',
    'llama-fit-params',
    'ratio',
    'load (with plan)',
    'load without',
    'plan',
  ]),
);
console.log(tableRow(Array(8).fill('---')));
for (const row of rows) console.log(row);
