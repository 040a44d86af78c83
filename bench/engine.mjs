#!/usr/bin/env node
// Engine figures: abort latency (during generation and during prompt evaluation), aggregate
// throughput of 1 vs N concurrent requests — next to llama.cpp's own llama-batched-bench on the same
// model and threads, in alternating rounds — prompt time with and without prefix-cache reuse, and
// event-loop lag while generating. Prints a Markdown table; medians of several runs.
//
// Usage: npm run bench:engine [-- --threads 2 --model small --runs 5]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { createRandomLlama } from '../dist/gguf/index.js';
import { LlamaModel } from '../dist/index.js';
import { median } from './measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'bench', '.work');
const vocab = join(root, 'vendor', 'llama.cpp', 'models', 'ggml-vocab-llama-spm.gguf');
const batchedBench = join(root, 'build', 'oracle', 'bin', 'llama-batched-bench');

const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    model: { type: 'string', default: 'small' },
    runs: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
  },
});
const threads = Number(args.threads);
const runs = Number(args.runs);
const concurrency = Number(args.concurrency);

const MODELS = {
  tiny: { embeddingLength: 64, layerCount: 2, headCount: 4, feedForwardLength: 128, type: 'f16' },
  small: { embeddingLength: 512, layerCount: 8, headCount: 8, feedForwardLength: 1376, type: 'f16' },
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function modelPath(name) {
  const path = join(work, `${name}.gguf`);
  if (existsSync(path)) return path;
  mkdirSync(work, { recursive: true });
  await createRandomLlama({
    ...MODELS[name],
    vocabPath: vocab,
    outputPath: `${path}.tmp`,
    seed: 5,
    name: `bench ${name}`,
  });
  renameSync(`${path}.tmp`, path);
  return path;
}

const noEog = { 2: Number.NEGATIVE_INFINITY };
const GENERATE = 64;

/** llama.cpp's own batched decoding (llama-batched-bench, built from the same tree with OpenMP, as a
 *  lone process should be): generated tokens per second of wall time, prompt included as ours is,
 *  for 1 and `n` sequences of a 5-token prompt each, one KV stream per sequence as ours. */
function llamaBatched(path, n) {
  const out = execFileSync(
    batchedBench,
    [
      '-m',
      path,
      '-c',
      String(2048 * n),
      '-b',
      '2048',
      '-ub',
      '512',
      '-npp',
      '5',
      '-ntg',
      String(GENERATE),
      '-npl',
      `1,${n}`,
      '-t',
      String(threads),
      '-tb',
      String(threads),
      '-no-kvu',
      '--output-format',
      'jsonl',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const rows = out
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
  const rate = (pl) => {
    const row = rows.find((r) => r.pl === pl);
    return (pl * row.tg) / row.t;
  };
  return { single: rate(1), parallel: rate(n) };
}

const words = (n) => Array.from({ length: n }, (_, i) => `word${i % 97}`).join(' ');

async function main() {
  const path = await modelPath(args.model);
  const rows = [];
  const model = await LlamaModel.load(path, { contextSize: 2048, sequences: concurrency, threads });
  try {
    // Abort latency, during generation: abort after some tokens, time until the promise settles.
    const generationLatency = [];
    for (let i = 0; i < runs; i++) {
      const controller = new AbortController();
      let abortedAt = 0;
      let count = 0;
      const done = model.generate('Hello', {
        temperature: 0,
        logitBias: noEog,
        signal: controller.signal,
        onToken: () => {
          if (++count === 10) {
            abortedAt = performance.now();
            controller.abort();
          }
        },
      });
      await done;
      generationLatency.push(performance.now() - abortedAt);
    }
    rows.push(['abort latency during generation (ms)', median(generationLatency).toFixed(2)]);

    // Abort latency during a long prompt evaluation (batches of 512): abort 20 ms in.
    const promptLatency = [];
    const longPrompt = words(640);
    for (let i = 0; i < runs; i++) {
      const controller = new AbortController();
      const started = model.generate(`${i} ${longPrompt}`, { temperature: 0, maxTokens: 1, signal: controller.signal });
      await sleep(20);
      const abortedAt = performance.now();
      controller.abort();
      const result = await started;
      if (result.stopReason === 'abort') promptLatency.push(performance.now() - abortedAt);
    }
    rows.push([
      'abort latency during prompt evaluation (ms)',
      promptLatency.length ? median(promptLatency).toFixed(2) : 'n/a',
    ]);

    // Throughput: one request alone vs `concurrency` at once (64 tokens each, greedy, a ~5-token
    // prompt each), wall time from the calls to the last result; llama-batched-bench alternating.
    const measure = async (n) => {
      const started = performance.now();
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          model.generate(`Request number ${i}:`, { temperature: 0, maxTokens: GENERATE, logitBias: noEog }),
        ),
      );
      const tokens = results.reduce((sum, r) => sum + r.tokens.length, 0);
      return (tokens * 1000) / (performance.now() - started);
    };
    const withLlamaCpp = existsSync(batchedBench);
    await measure(1);
    const single = [];
    const parallel = [];
    const theirs = { single: [], parallel: [] };
    for (let i = 0; i < runs; i++) {
      single.push(await measure(1));
      parallel.push(await measure(concurrency));
      if (withLlamaCpp) {
        const run = llamaBatched(path, concurrency);
        theirs.single.push(run.single);
        theirs.parallel.push(run.parallel);
      }
    }
    rows.push(['throughput, 1 request (tokens/s)', median(single).toFixed(1)]);
    rows.push([`throughput, ${concurrency} concurrent requests (tokens/s, aggregate)`, median(parallel).toFixed(1)]);
    rows.push([`  ratio ${concurrency} : 1`, `${(median(parallel) / median(single)).toFixed(2)}×`]);
    if (withLlamaCpp) {
      rows.push(['llama-batched-bench, 1 sequence (tokens/s)', median(theirs.single).toFixed(1)]);
      rows.push([
        `llama-batched-bench, ${concurrency} sequences (tokens/s, aggregate)`,
        median(theirs.parallel).toFixed(1),
      ]);
      rows.push([`  its ratio ${concurrency} : 1`, `${(median(theirs.parallel) / median(theirs.single)).toFixed(2)}×`]);
      rows.push([
        `  ours / llama.cpp, 1 and ${concurrency}`,
        `${(median(single) / median(theirs.single)).toFixed(2)}×, ` +
          `${(median(parallel) / median(theirs.parallel)).toFixed(2)}×`,
      ]);
    }

    // Prompt time with and without prefix reuse: a 1000-token prefix, then the prefix + a question.
    const cold = [];
    const warm = [];
    for (let i = 0; i < runs; i++) {
      const prefix = `Document ${i}. ${words(330)}`;
      const first = await model.generate(prefix, { temperature: 0, maxTokens: 1 });
      const second = await model.generate(`${prefix} And now a question?`, { temperature: 0, maxTokens: 1 });
      cold.push(first.timings.promptMs);
      warm.push(second.timings.promptMs);
      if (second.timings.reusedTokens < first.timings.promptTokens - 1) throw new Error('the prefix was not reused');
    }
    rows.push(['prompt time, ~1000 tokens, no cache (ms)', median(cold).toFixed(1)]);
    rows.push(['prompt time, same prefix + 6 tokens, cache reused (ms)', median(warm).toFixed(1)]);

    // Event-loop lag while 4 requests generate with token callbacks.
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    await Promise.all(
      Array.from({ length: concurrency }, (_, i) =>
        model.generate(`Lag ${i}`, { temperature: 0, maxTokens: 200, logitBias: noEog, onToken: () => {} }),
      ),
    );
    histogram.disable();
    rows.push(['event-loop lag while generating, max (ms)', (histogram.max / 1e6).toFixed(2)]);
    rows.push(['event-loop lag while generating, p99 (ms)', (histogram.percentile(99) / 1e6).toFixed(2)]);
  } finally {
    await model.dispose();
  }

  const title = `${args.model} model, ${threads} threads, ${concurrency} sequences, medians of ${runs} runs`;
  if (args.json) {
    console.log(JSON.stringify({ title, rows }));
    return;
  }
  console.log(`\nengine figures: ${title}\n`);
  console.log('| figure | value |');
  console.log('|---|---|');
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
}

await main();
