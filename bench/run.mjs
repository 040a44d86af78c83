#!/usr/bin/env node
// The benchmark: llama-napi next to llama.cpp's own llama-bench (built from the same vendor tree and
// flags, in the addon's build directory) and next to node-llama-cpp (installed on demand into
// bench/.work, not a dependency), on random-weight llama models written by the project's GGUF
// writer; alternating rounds, medians, ratios. Then load time, engine figures (bench/engine.mjs)
// and peak RSS. Writes bench/RESULTS.md and bench/results.json.
//
// pp = a 128-token prompt evaluated in one batch (repetitions back to back, as llama-bench does);
// tg = 64 tokens generated greedily (llama-bench decodes without sampling; ours samples and
// detokenizes every token).
//
// Usage: npm run bench [-- --rounds 5 --threads 1,2 --models tiny,small,small-q8 --no-node-llama-cpp]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { createRandomLlama } from '../dist/gguf/index.js';
import { LlamaModel } from '../dist/index.js';
import { checkModelFile } from '../dist/gguf/check-file.js';
import { loadAddon } from '../dist/native.js';
import { fmt, GENERATE, measureOurs, median, PROMPT, ratio, tableRow } from './measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'bench', '.work');
const llamaBench = join(root, 'build', 'bench', 'llama-bench', 'llama-bench');
const llamaSimple = join(root, 'build', 'oracle', 'bin', 'llama-simple');
const vocab = join(root, 'vendor', 'llama.cpp', 'models', 'ggml-vocab-llama-spm.gguf');
const nlcDir = join(work, 'node-llama-cpp');

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1,2' },
    models: { type: 'string', default: 'tiny,small,small-q8' },
    'no-node-llama-cpp': { type: 'boolean', default: false },
    'no-engine': { type: 'boolean', default: false },
  },
});
const rounds = Number(args.rounds);
const threadCounts = args.threads.split(',').map(Number);

/** Random llama models on the SPM vocabulary (the sizes of the performance issue's table). */
const MODELS = {
  tiny: { embeddingLength: 64, layerCount: 2, headCount: 4, feedForwardLength: 128, type: 'f16' },
  small: { embeddingLength: 512, layerCount: 8, headCount: 8, feedForwardLength: 1376, type: 'f16' },
  'small-q8': { embeddingLength: 512, layerCount: 8, headCount: 8, feedForwardLength: 1376, type: 'q8_0' },
};

const log = (message) => console.error(`[bench] ${message}`);

async function ensureModel(name) {
  const path = join(work, `${name}.gguf`);
  if (existsSync(path)) return path;
  mkdirSync(work, { recursive: true });
  const model = await createRandomLlama({
    ...MODELS[name],
    vocabPath: vocab,
    outputPath: `${path}.tmp`,
    seed: 5,
    name: `bench ${name}`,
  });
  renameSync(`${path}.tmp`, path);
  log(`wrote ${name}: ${(model.parameters / 1e6).toFixed(1)} M parameters`);
  return path;
}

function ensureTools() {
  if (!existsSync(llamaBench)) {
    log('building llama-bench from vendor/llama.cpp (once, ~2 minutes)…');
    execFileSync('cmake', ['--build', join(root, 'build'), '--target', 'llama-bench'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const oracles = ['llama-simple', 'llama-batched-bench'].filter(
    (tool) => !existsSync(join(root, 'build', 'oracle', 'bin', tool)),
  );
  if (oracles.length > 0) {
    log(`building ${oracles.join(' and ')} (once)…`);
    execFileSync(process.execPath, [join(root, 'scripts', 'build-oracle.mjs'), ...oracles], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
}

/** One llama-bench run: its average tokens/s for pp and tg over `repetitions`. */
function runLlamaBench(path, threads, repetitions) {
  const out = execFileSync(
    llamaBench,
    [
      '-m',
      path,
      '-t',
      String(threads),
      '-p',
      String(PROMPT),
      '-n',
      String(GENERATE),
      '-r',
      String(repetitions),
      '-o',
      'json',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const rows = JSON.parse(out);
  const pick = (pp) =>
    rows.find((row) => (pp ? row.n_prompt > 0 && row.n_gen === 0 : row.n_gen > 0 && row.n_prompt === 0)).avg_ts;
  return { pp: pick(true), tg: pick(false) };
}

function ensureNodeLlamaCpp() {
  if (existsSync(join(nlcDir, 'node_modules', 'node-llama-cpp'))) return true;
  mkdirSync(nlcDir, { recursive: true });
  writeFileSync(join(nlcDir, 'package.json'), '{ "name": "bench-node-llama-cpp", "private": true }\n');
  log('installing node-llama-cpp@3.22.1 into bench/.work (once; its prebuilt binaries come from the npm registry)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const install = spawnSync(npm, ['install', 'node-llama-cpp@3.22.1', '--no-audit', '--no-fund', '--silent'], {
    cwd: nlcDir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return install.status === 0;
}

function runNodeLlamaCpp(path, threads, repetitions) {
  const run = spawnSync(
    process.execPath,
    [join(root, 'bench', 'node-llama-cpp-runner.mjs'), path, String(threads), String(repetitions)],
    {
      encoding: 'utf8',
      timeout: 300_000,
    },
  );
  if (run.status !== 0) throw new Error(`node-llama-cpp runner failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop());
}

/**
 * Model load (+ context + first decode): llama.cpp's own "load time" counter — from the start of its
 * model load, after it parsed the GGUF file, to the end of the first decode — as llama-simple prints
 * it and as it reads inside our process (context.perf().loadMs, the raw addon: load, context, decode
 * of the same prompt); and ours end to end: LlamaModel.load (our GGUF check, llama.cpp's parse and
 * load, the context) and a one-token generate(), with the check also timed alone.
 */
async function loadTimes(path) {
  const theirs = [];
  const counter = [];
  const ours = [];
  const check = [];
  const addon = loadAddon();
  for (let i = 0; i < rounds; i++) {
    const run = spawnSync(llamaSimple, ['-m', path, '-n', '1', 'Hello'], { encoding: 'utf8' });
    const match = /load time =\s*([\d.]+) ms/.exec(run.stderr);
    if (match) theirs.push(Number(match[1]));

    const model = await addon.loadModel(path, {});
    const context = await model.createContext({ contextSize: 256, threads: 2 });
    await context.decode(await model.tokenize('Hello'));
    counter.push(context.perf().loadMs);
    context.dispose();
    model.dispose();

    const checked = performance.now();
    await checkModelFile(path);
    check.push(performance.now() - checked);
    const started = performance.now();
    const llama = await LlamaModel.load(path, { contextSize: 256, threads: 2 });
    await llama.generate('Hello', { maxTokens: 1, temperature: 0 });
    ours.push(performance.now() - started);
    await llama.dispose();
  }
  return { theirs: median(theirs), counter: median(counter), ours: median(ours), check: median(check) };
}

function machine() {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let build = 'native (GGML_NATIVE)';
  try {
    const cache = readFileSync(join(root, 'build', 'CMakeCache.txt'), 'utf8');
    if (/LLAMA_NAPI_PORTABLE:BOOL=ON/.test(cache)) build = 'portable';
  } catch {
    // no build cache: keep the default description
  }
  return `${cpu}, ${cpus().length} cores; Node ${process.version}; ${build} build, ggml thread pools`;
}

async function main() {
  ensureTools();
  const addon = loadAddon();
  await addon.initBackend();
  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    llamaBench: [],
    nodeLlamaCpp: [],
    load: [],
    engine: null,
    peakRssMiB: 0,
  };

  const withNlc = !args['no-node-llama-cpp'] && ensureNodeLlamaCpp();
  for (const name of args.models.split(',')) {
    const path = await ensureModel(name);
    const model = await addon.loadModel(path, {});
    const label = `${name} (${(model.info().parameters / 1e6).toFixed(1)} M, ${MODELS[name].type.toUpperCase()})`;
    for (const threads of threadCounts) {
      const theirs = { pp: [], tg: [] };
      const ours = { pp: [], tg: [] };
      const nlc = { pp: [], tg: [] };
      for (let round = 0; round < rounds; round++) {
        const a = runLlamaBench(path, threads, 3);
        const b = await measureOurs(model, threads, 3);
        theirs.pp.push(a.pp);
        theirs.tg.push(a.tg);
        ours.pp.push(b.pp);
        ours.tg.push(b.tg);
        if (withNlc && round < Math.min(rounds, 3)) {
          const c = runNodeLlamaCpp(path, threads, 3);
          nlc.pp.push(c.pp);
          nlc.tg.push(c.tg);
        }
      }
      const row = {
        model: label,
        threads,
        llamaBench: { pp: median(theirs.pp), tg: median(theirs.tg) },
        ours: { pp: median(ours.pp), tg: median(ours.tg) },
      };
      results.llamaBench.push(row);
      if (withNlc)
        results.nodeLlamaCpp.push({
          model: label,
          threads,
          nodeLlamaCpp: { pp: median(nlc.pp), tg: median(nlc.tg) },
          ours: row.ours,
        });
      log(
        `${label} t=${threads}: pp ${fmt(row.ours.pp)} vs ${fmt(row.llamaBench.pp)}, ` +
          `tg ${fmt(row.ours.tg)} vs ${fmt(row.llamaBench.tg)}` +
          (withNlc ? `; node-llama-cpp tg ${fmt(median(nlc.tg))}` : ''),
      );
    }
    model.dispose();
    const load = await loadTimes(path);
    results.load.push({ model: label, ...load });
  }

  if (!args['no-engine']) {
    const engine = spawnSync(
      process.execPath,
      [join(root, 'bench', 'engine.mjs'), '--json', '--runs', String(Math.max(3, rounds))],
      { encoding: 'utf8', timeout: 600_000 },
    );
    if (engine.status === 0) results.engine = JSON.parse(engine.stdout.trim().split('\n').pop());
    else log(`engine figures failed: ${engine.stderr}`);
  }
  results.peakRssMiB = process.resourceUsage().maxRSS / 1024;

  const lines = [];
  lines.push(
    `# Benchmark results`,
    '',
    `Written by \`npm run bench\` on ${results.date.slice(0, 10)}: ${results.machine}.`,
    '',
  );
  lines.push(
    `Random-weight llama models (SPM vocabulary), pp${PROMPT} / tg${GENERATE}, tokens/s, ` +
      `medians of ${rounds} alternating rounds.`,
    '',
  );
  lines.push('## Next to llama.cpp (llama-bench, same build)', '');
  lines.push(
    '| model | threads | llama-bench pp | llama-napi pp | ratio | llama-bench tg | llama-napi tg | ratio |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const row of results.llamaBench) {
    lines.push(
      tableRow([
        row.model,
        row.threads,
        fmt(row.llamaBench.pp),
        fmt(row.ours.pp),
        ratio(row.ours.pp, row.llamaBench.pp),
        fmt(row.llamaBench.tg),
        fmt(row.ours.tg),
        ratio(row.ours.tg, row.llamaBench.tg),
      ]),
    );
  }
  if (results.nodeLlamaCpp.length > 0) {
    lines.push('', '## Next to node-llama-cpp 3.22.1 (its prebuilt CPU binary)', '');
    lines.push(
      '| model | threads | node-llama-cpp pp | llama-napi pp | ratio | node-llama-cpp tg | llama-napi tg | ratio |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const row of results.nodeLlamaCpp) {
      lines.push(
        tableRow([
          row.model,
          row.threads,
          fmt(row.nodeLlamaCpp.pp),
          fmt(row.ours.pp),
          ratio(row.ours.pp, row.nodeLlamaCpp.pp),
          fmt(row.nodeLlamaCpp.tg),
          fmt(row.ours.tg),
          ratio(row.ours.tg, row.nodeLlamaCpp.tg),
        ]),
      );
    }
  }
  lines.push(
    '',
    '## Model load (load + context + first decode, mmap)',
    '',
    'llama.cpp\'s "load time" counter starts after it parsed the GGUF header and dumped its metadata; ' +
      'llama-simple is a fresh process, ours a warm one. ' +
      'End to end = `LlamaModel.load` + a one-token `generate()` ' +
      "(our GGUF check, llama.cpp's parse, load and context, the first token).",
    '',
    tableRow([
      'model',
      'llama-simple "load time"',
      'same counter in llama-napi',
      'ratio',
      'llama-napi end to end',
      'of which our GGUF check',
    ]),
    '|---|---|---|---|---|---|',
  );
  for (const row of results.load) {
    lines.push(
      tableRow([
        row.model,
        `${row.theirs.toFixed(1)} ms`,
        `${row.counter.toFixed(1)} ms`,
        ratio(row.counter, row.theirs),
        `${row.ours.toFixed(1)} ms`,
        `${row.check.toFixed(1)} ms`,
      ]),
    );
  }
  if (results.engine) {
    lines.push('', `## Engine (${results.engine.title})`, '', '| figure | value |', '|---|---|');
    for (const [name, value] of results.engine.rows) lines.push(`| ${name} | ${value} |`);
  }
  lines.push('', `Peak RSS of the benchmark process: ${results.peakRssMiB.toFixed(0)} MiB.`, '');
  const markdown = `${lines.join('\n')}\n`;
  writeFileSync(join(root, 'bench', 'RESULTS.md'), markdown);
  writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(markdown);
}

await main();
