#!/usr/bin/env node
// The GPU benchmark (run on the GPU machine by scripts/device/gpu.sh, with a CUDA build): ours next
// to llama.cpp's own `llama-bench -ngl 99` built in the same build directory (same backend, same
// flags), in alternating rounds, on a ~1B random llama in F16 and in Q4_K_M; pp512 and tg128, all
// layers on the GPU. Then the aggregate tokens/s of 1 vs 8 concurrent requests.
//
// Usage: node bench/gpu.mjs --prepare          write the models (F16 by the project's GGUF writer,
//                                              Q4_K_M by llama.cpp's llama-quantize)
//        node bench/gpu.mjs [--rounds 3] [--out dir]   measure; Markdown to stdout (and dir/gpu-bench.md)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { createRandomLlama } from '../dist/gguf/index.js';
import { buildInfo, listDevices, LlamaModel } from '../dist/index.js';
import { loadAddon } from '../dist/native.js';
import { fmt, measureOurs, median, ratio, tableRow } from './measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'bench', '.work');
const vocab = join(root, 'vendor', 'llama.cpp', 'models', 'ggml-vocab-llama-spm.gguf');
/**
 * llama.cpp's tools of the CUDA build: beside the addon (the device kit's layout), else in the static
 * build's folders.
 */
const tool = (name, folder) =>
  [join(root, 'build', 'Release', name), join(root, 'build', folder, name, name)].find((path) => existsSync(path)) ??
  join(root, 'build', folder, name, name);
const llamaBench = tool('llama-bench', 'bench');
const llamaQuantize = tool('llama-quantize', 'tools');
const PROMPT = 512;
const GENERATE = 128;
const CONCURRENT = 8;
/** CPU threads for both (the GPU does the work; the same count keeps the comparison even). */
const THREADS = 4;

/** The anchor of ../shared/TOOLCHAIN.md: 953 M parameters (n_embd 2048, 16 layers, 16 heads, n_ff 5632). */
const SHAPE = { embeddingLength: 2048, layerCount: 16, headCount: 16, feedForwardLength: 5632 };
export const GPU_MODELS = {
  f16: join(work, 'gpu-1b-f16.gguf'),
  q4_k_m: join(work, 'gpu-1b-q4_k_m.gguf'),
};

const { values: args } = parseArgs({
  options: {
    prepare: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    out: { type: 'string' },
  },
});
const log = (message) => console.error(`[bench:gpu] ${message}`);

async function prepare() {
  mkdirSync(work, { recursive: true });
  if (!existsSync(GPU_MODELS.f16)) {
    const started = Date.now();
    const model = await createRandomLlama({
      ...SHAPE,
      type: 'f16',
      vocabPath: vocab,
      outputPath: `${GPU_MODELS.f16}.tmp`,
      seed: 9,
      name: 'bench gpu 1b',
    });
    renameSync(`${GPU_MODELS.f16}.tmp`, GPU_MODELS.f16);
    log(
      `wrote ${GPU_MODELS.f16}: ${(model.parameters / 1e6).toFixed(0)} M parameters ` +
        `in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  }
  if (!existsSync(GPU_MODELS.q4_k_m)) {
    const started = Date.now();
    rmSync(`${GPU_MODELS.q4_k_m}.tmp`, { force: true });
    // llama-quantize logs every tensor: only its last lines are shown, and only if it fails.
    const run = spawnSync(llamaQuantize, [GPU_MODELS.f16, `${GPU_MODELS.q4_k_m}.tmp`, 'Q4_K_M'], {
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (run.status !== 0) {
      const tail = (run.stderr ?? '').split('\n').slice(-15).join('\n');
      throw new Error(`llama-quantize exited with ${run.status ?? run.signal}:\n${tail}`);
    }
    renameSync(`${GPU_MODELS.q4_k_m}.tmp`, GPU_MODELS.q4_k_m);
    log(`quantized to Q4_K_M with llama-quantize in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
}

/** llama-bench -ngl 99: mean tokens/s of pp512 and tg128 over `repetitions`. */
function runLlamaBench(path, repetitions) {
  const out = execFileSync(
    llamaBench,
    [
      '-m',
      path,
      '-ngl',
      '99',
      '-t',
      String(THREADS),
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

/** Aggregate generated tokens/s of `n` concurrent greedy requests (EOS forbidden, GENERATE each). */
async function concurrent(model, n) {
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      model.generate(`Request ${i}:`, {
        temperature: 0,
        maxTokens: GENERATE,
        logitBias: { 2: Number.NEGATIVE_INFINITY },
      }),
    ),
  );
  return (results.reduce((sum, r) => sum + r.tokens.length, 0) * 1000) / (performance.now() - started);
}

async function main() {
  const rounds = Number(args.rounds);
  const info = await buildInfo();
  if (info.gpu === 'off') throw new Error('bench/gpu.mjs needs a GPU build (LLAMA_NAPI_GPU=cuda)');
  const gpu = (await listDevices()).find((device) => device.type === 'gpu');
  if (!gpu) throw new Error('no GPU device is visible to this build');
  const addon = loadAddon();
  const rows = [];
  for (const [name, path] of Object.entries(GPU_MODELS)) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run node bench/gpu.mjs --prepare first`);
    const model = await addon.loadModel(path, { gpuLayers: -1 });
    const theirs = { pp: [], tg: [] };
    const ours = { pp: [], tg: [] };
    for (let round = 0; round < rounds; round++) {
      const a = runLlamaBench(path, 3);
      const b = await measureOurs(model, THREADS, 3, { promptTokens: PROMPT, generateTokens: GENERATE });
      theirs.pp.push(a.pp);
      theirs.tg.push(a.tg);
      ours.pp.push(b.pp);
      ours.tg.push(b.tg);
      log(`${name} round ${round + 1}: pp ${fmt(b.pp)} vs ${fmt(a.pp)}, tg ${fmt(b.tg)} vs ${fmt(a.tg)}`);
    }
    const parameters = model.info().parameters;
    model.dispose();

    const llama = await LlamaModel.load(path, {
      gpuLayers: 'all',
      sequences: CONCURRENT,
      contextSize: 1024,
      threads: THREADS,
    });
    await concurrent(llama, 1);
    const one = [];
    const many = [];
    for (let round = 0; round < rounds; round++) {
      one.push(await concurrent(llama, 1));
      many.push(await concurrent(llama, CONCURRENT));
    }
    await llama.dispose();
    rows.push({
      model: `${name.toUpperCase()} (${(parameters / 1e6).toFixed(0)} M)`,
      llamaBench: { pp: median(theirs.pp), tg: median(theirs.tg) },
      ours: { pp: median(ours.pp), tg: median(ours.tg) },
      one: median(one),
      many: median(many),
    });
  }

  const lines = [
    `## GPU: ${gpu.description || gpu.name} (llama-napi CUDA build, ${new Date().toISOString().slice(0, 10)})`,
    '',
    `Random-weight llama (n_embd 2048, 16 layers, SPM vocabulary), all layers offloaded; ` +
      `pp${PROMPT} / tg${GENERATE}, tokens/s, medians of ${rounds} alternating rounds; ` +
      'llama-bench -ngl 99 from the same build directory.',
    '',
    tableRow([
      'model',
      'llama-bench pp',
      'llama-napi pp',
      'ratio',
      'llama-bench tg',
      'llama-napi tg',
      'ratio',
      '1 request',
      '8 concurrent',
      'ratio',
    ]),
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) =>
      tableRow([
        r.model,
        fmt(r.llamaBench.pp),
        fmt(r.ours.pp),
        ratio(r.ours.pp, r.llamaBench.pp),
        fmt(r.llamaBench.tg),
        fmt(r.ours.tg),
        ratio(r.ours.tg, r.llamaBench.tg),
        fmt(r.one),
        fmt(r.many),
        ratio(r.many, r.one),
      ]),
    ),
    '',
  ];
  const markdown = lines.join('\n');
  console.log(markdown);
  if (args.out) {
    mkdirSync(args.out, { recursive: true });
    writeFileSync(join(args.out, 'gpu-bench.md'), markdown);
    writeFileSync(join(args.out, 'gpu-bench.json'), `${JSON.stringify({ device: gpu, rows }, null, 2)}\n`);
  }
}

if (args.prepare) await prepare();
else await main();
