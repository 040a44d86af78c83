#!/usr/bin/env node
// Benchmark: llama-napi next to llama.cpp's own llama-bench (built from the same vendor tree and
// flags, in the addon's build directory), same models and threads, in alternating rounds; prints
// medians and the ratio per row. pp = a 128-token prompt in one batch; tg = 64 tokens generated
// greedily (llama-bench decodes without sampling; ours samples and detokenizes every token too).
//
// Usage: npm run bench [-- --rounds 5 --threads 1,2 --models tiny,small]
// Needs the compiled library (npm install) and builds llama-bench on first use (~2 minutes).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { createRandomLlama } from '../dist/gguf/index.js';
import { loadAddon } from '../dist/native.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'bench', '.work');
const llamaBench = join(root, 'build', 'bench', 'llama-bench', 'llama-bench');
const vocab = join(root, 'vendor', 'llama.cpp', 'models', 'ggml-vocab-llama-spm.gguf');

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1,2' },
    models: { type: 'string', default: 'tiny,small' },
    prompt: { type: 'string', default: '128' },
    generate: { type: 'string', default: '64' },
  },
});
const rounds = Number(args.rounds);
const threadCounts = args.threads.split(',').map(Number);
const promptTokens = Number(args.prompt);
const generateTokens = Number(args.generate);

/** Random llama models on the SPM vocabulary (as in the performance issue's table). */
const MODELS = {
  tiny: { embeddingLength: 64, layerCount: 2, headCount: 4, feedForwardLength: 128, type: 'f16' },
  small: { embeddingLength: 512, layerCount: 8, headCount: 8, feedForwardLength: 1376, type: 'f16' },
  'small-q8': { embeddingLength: 512, layerCount: 8, headCount: 8, feedForwardLength: 1376, type: 'q8_0' },
};

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function ensureModel(name) {
  const path = join(work, `${name}.gguf`);
  if (existsSync(path)) return path;
  mkdirSync(work, { recursive: true });
  const temporary = `${path}.tmp`;
  const model = await createRandomLlama({ ...MODELS[name], vocabPath: vocab, outputPath: temporary, seed: 5, name: `bench ${name}` });
  renameSync(temporary, path);
  console.error(`[bench] wrote ${name}: ${(model.parameters / 1e6).toFixed(1)} M parameters`);
  return path;
}

function ensureLlamaBench() {
  if (existsSync(llamaBench)) return;
  console.error('[bench] building llama-bench from vendor/llama.cpp (once)…');
  execFileSync('cmake', ['--build', join(root, 'build'), '--target', 'llama-bench'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** One llama-bench run: tokens/s of pp and tg (its own average over `repetitions`). */
function runLlamaBench(path, threads, repetitions) {
  const out = execFileSync(
    llamaBench,
    ['-m', path, '-t', String(threads), '-p', String(promptTokens), '-n', String(generateTokens), '-r', String(repetitions), '-o', 'json'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const rows = JSON.parse(out);
  const pick = (test) => rows.find((row) => (test === 'pp' ? row.n_prompt > 0 && row.n_gen === 0 : row.n_gen > 0 && row.n_prompt === 0)).avg_ts;
  return { pp: pick('pp'), tg: pick('tg') };
}

/** Ours, through the raw addon: pp = one decode of the prompt, tg = the native generation loop. */
async function runOurs(addon, model, threads, repetitions) {
  const context = await model.createContext({ contextSize: promptTokens + generateTokens + 8, batchSize: Math.max(promptTokens, 1), threads });
  const eos = model.info().tokens.eos;
  try {
    const prompt = Array.from({ length: promptTokens }, (_, i) => 100 + ((i * 7919) % 30000));
    // Warm-up, as llama-bench does.
    await context.decode(prompt);
    context.memoryClear();
    const pp = [];
    const tg = [];
    for (let r = 0; r < repetitions; r++) {
      context.memoryClear();
      const start = performance.now();
      await context.decode(prompt);
      pp.push((promptTokens * 1000) / (performance.now() - start));
      const result = await context.generate({
        tokens: [1],
        maxTokens: generateTokens,
        sampling: { temperature: 0, logitBias: eos === null ? [] : [[eos, Number.NEGATIVE_INFINITY]] },
      });
      tg.push((result.timings.generatedTokens * 1000) / result.timings.generateMs);
    }
    return { pp: pp.reduce((a, b) => a + b) / pp.length, tg: tg.reduce((a, b) => a + b) / tg.length };
  } finally {
    context.dispose();
  }
}

async function main() {
  ensureLlamaBench();
  const addon = loadAddon();
  await addon.initBackend();
  const rows = [];
  for (const name of args.models.split(',')) {
    const path = await ensureModel(name);
    const model = await addon.loadModel(path, {});
    const parameters = model.info().parameters;
    for (const threads of threadCounts) {
      const theirs = { pp: [], tg: [] };
      const ours = { pp: [], tg: [] };
      for (let round = 0; round < rounds; round++) {
        const a = runLlamaBench(path, threads, 3);
        const b = await runOurs(addon, model, threads, 3);
        theirs.pp.push(a.pp);
        theirs.tg.push(a.tg);
        ours.pp.push(b.pp);
        ours.tg.push(b.tg);
      }
      const row = {
        model: `${name} (${(parameters / 1e6).toFixed(1)} M, ${MODELS[name].type.toUpperCase()})`,
        threads,
        llamaBenchPp: median(theirs.pp),
        oursPp: median(ours.pp),
        llamaBenchTg: median(theirs.tg),
        oursTg: median(ours.tg),
      };
      rows.push(row);
      console.error(`[bench] ${row.model} t=${threads}: pp ${row.oursPp.toFixed(0)} vs ${row.llamaBenchPp.toFixed(0)}, tg ${row.oursTg.toFixed(0)} vs ${row.llamaBenchTg.toFixed(0)}`);
    }
    model.dispose();
  }
  const fmt = (value) => value.toFixed(value >= 100 ? 0 : 1);
  console.log(`\npp${promptTokens} / tg${generateTokens}, tokens/s, medians of ${rounds} alternating rounds\n`);
  console.log('| model | threads | llama-bench pp | llama-napi pp | ratio | llama-bench tg | llama-napi tg | ratio |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    console.log(
      `| ${row.model} | ${row.threads} | ${fmt(row.llamaBenchPp)} | ${fmt(row.oursPp)} | ${(row.oursPp / row.llamaBenchPp).toFixed(2)}× | ${fmt(row.llamaBenchTg)} | ${fmt(row.oursTg)} | ${(row.oursTg / row.llamaBenchTg).toFixed(2)}× |`,
    );
  }
}

await main();
