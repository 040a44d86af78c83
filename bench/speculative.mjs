#!/usr/bin/env node
// Speculative decoding: tokens/s of generate() with prompt lookup and with a draft model, next to
// plain decoding of the same model in the same run (alternating rounds, medians), with the share of
// drafted tokens the model accepted. Every speculative run is checked against the plain one: same
// tokens (greedy), or the case is reported as diverged.
//
// Cases:
//   story-self      stories260K continuing its own story, greedy (its text comes back to itself)
//   story-copy      stories260K asked to go on after a passage written twice (the output copies it)
//   story-sampled   stories260K sampled at temperature 1 (little repeats: what lookup costs)
//   story-parsejob  LocalProvider.parseJob's request (its prompt and JSON grammar) on the example
//                   posting, greedy, to its natural end: what lookup does for the provider
//   story-draft     stories260K drafted for by its own first block (trained weights: the first of
//                   its 5 blocks, with its embeddings and output)
//   random-lookup   a random-weight 8-layer model (its greedy output loops), prompt lookup
//   random-draft    the same model drafted for by its Q8_0 copy (same weights, half the bytes)
//   cycle-lookup    the 8-layer shape with blocks that add nothing (blockScale 0): each token
//                   follows from the one before, so the output soon repeats itself; prompt lookup
//   cycle-draft     the same model drafted for by its first block alone (the same predictions at
//                   an eighth of the cost)
//   model-copy      with --model: that model asked to repeat a passage, prompt lookup
//   model-draft     with --model and --draft: the same prompt, the draft model drafting
//   model-parsejob  with --model: parseJob's request (through the model's chat template, as the
//                   provider sends it), prompt lookup
//
// Usage: npm run bench:speculative [-- --rounds 5 --tokens 512 --threads 2 --model M.gguf --draft D.gguf
//        --gpu-layers all --only story-parsejob,cycle-lookup]
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { createRandomLlama, gguf, readGgufHeader, writeGguf } from '../dist/gguf/index.js';
import { LlamaModel } from '../dist/index.js';
import { jsonSchemaToGrammar } from '../dist/generation/json-schema.js';
import { parseJobPrompt } from '../dist/provider/prompts.js';
import { JobPostingSchema, toJsonSchema } from '../dist/provider/schemas.js';
import { fmt, median, ratio, tableRow } from './measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'bench', '.work');
const stories = join(root, '..', 'shared', 'models', 'stories260K.gguf');
const vocab = join(root, 'vendor', 'llama.cpp', 'models', 'ggml-vocab-llama-spm.gguf');

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    tokens: { type: 'string', default: '512' },
    threads: { type: 'string', default: '2' },
    model: { type: 'string' },
    draft: { type: 'string' },
    'gpu-layers': { type: 'string', default: 'all' },
    only: { type: 'string' },
  },
});
const rounds = Number(args.rounds);
const tokens = Number(args.tokens);
const threads = Number(args.threads);
const log = (message) => console.error(`[bench] ${message}`);

async function randomModel(name, type, blockScale = 1) {
  const path = join(work, `${name}.gguf`);
  if (existsSync(path)) return path;
  mkdirSync(work, { recursive: true });
  const shape = { embeddingLength: 512, layerCount: 8, headCount: 8, feedForwardLength: 1376 };
  await createRandomLlama({ ...shape, type, blockScale, vocabPath: vocab, outputPath: `${path}.tmp`, seed: 5, name });
  renameSync(`${path}.tmp`, path);
  return path;
}

/** The model at `source` cut down to its first block: same embeddings, output and block 0. */
async function firstBlockOf(source, name) {
  const path = join(work, `${name}.gguf`);
  if (existsSync(path)) return path;
  const header = await readGgufHeader(source);
  const metadata = [...header.metadata].map(([key, value]) =>
    key === 'llama.block_count' ? [key, gguf.u32(1)] : [key, value],
  );
  const fd = openSync(source, 'r');
  try {
    const tensors = header.tensors
      .filter((tensor) => !tensor.name.startsWith('blk.') || tensor.name.startsWith('blk.0.'))
      .map((tensor) => {
        const data = new Uint8Array(tensor.size);
        readSync(fd, data, 0, tensor.size, header.dataOffset + tensor.offset);
        return { name: tensor.name, dims: tensor.dims, type: tensor.type, data };
      });
    writeGguf(`${path}.tmp`, { metadata, tensors });
  } finally {
    closeSync(fd);
  }
  renameSync(`${path}.tmp`, path);
  return path;
}

const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside. One day, Lily';
const PASSAGE =
  'Tom had a red ball. He liked to throw the ball to his dog, Max. ' +
  'Max ran fast and brought the ball back. Tom was happy.';

/** LocalProvider.parseJob's request for the example posting: its messages, its prompt for a model
 *  without a chat template, and its grammar; greedy, to the grammar's end. */
function parseJobCase(name, path) {
  const prompt = parseJobPrompt(readFileSync(join(root, 'examples', 'job-posting.txt'), 'utf8'));
  return {
    name,
    path,
    contextSize: 4096,
    prompt: `${prompt.system}\n\n${prompt.user}\n\nJSON:\n`,
    messages: [
      { role: 'system', content: prompt.system },
      { role: 'user', content: prompt.user },
    ],
    options: {
      temperature: 0,
      grammar: jsonSchemaToGrammar(toJsonSchema(JobPostingSchema)),
      ignoreEos: false,
      maxTokens: 4096 - 1536,
    },
    spec: { lookup: true },
  };
}

async function cases() {
  const list = [];
  if (existsSync(stories)) {
    list.push(
      { name: 'story-self', path: stories, prompt: STORY, options: { temperature: 0 }, spec: { lookup: true } },
      {
        name: 'story-copy',
        path: stories,
        prompt: `${PASSAGE}\n${PASSAGE}\n${PASSAGE.slice(0, 40)}`,
        options: { temperature: 0 },
        spec: { lookup: true },
      },
      {
        name: 'story-sampled',
        path: stories,
        prompt: STORY,
        options: { temperature: 1, seed: 1 },
        spec: { lookup: true },
      },
      parseJobCase('story-parsejob', stories),
      {
        name: 'story-draft',
        path: stories,
        prompt: STORY,
        options: { temperature: 0 },
        spec: { draftModel: await firstBlockOf(stories, 'stories260K-1'), maxDraftTokens: 8 },
      },
    );
  } else {
    log(`no ${stories}: the story cases are skipped`);
  }
  const f16 = await randomModel('spec-f16', 'f16');
  const q8 = await randomModel('spec-q8', 'q8_0');
  list.push(
    {
      name: 'random-lookup',
      path: f16,
      prompt: 'Hello my name is',
      options: { temperature: 0 },
      spec: { lookup: true },
    },
    {
      name: 'random-draft',
      path: f16,
      prompt: 'Hello my name is',
      options: { temperature: 0 },
      spec: { draftModel: q8, maxDraftTokens: 8 },
    },
  );
  const cycle = await randomModel('spec-cycle', 'f16', 0);
  const cycleDraft = await firstBlockOf(cycle, 'spec-cycle-1');
  list.push(
    { name: 'cycle-lookup', path: cycle, prompt: 'The', options: { temperature: 0 }, spec: { lookup: true } },
    {
      name: 'cycle-draft',
      path: cycle,
      prompt: 'The',
      options: { temperature: 0 },
      spec: { draftModel: cycleDraft, maxDraftTokens: 8 },
    },
  );
  if (args.model !== undefined) {
    const prompt = `Repeat this passage word for word.\n\n${PASSAGE} ${STORY}\n\nThe passage again:\n`;
    list.push({ name: 'model-copy', path: args.model, prompt, options: { temperature: 0 }, spec: { lookup: true } });
    list.push(parseJobCase('model-parsejob', args.model));
    if (args.draft !== undefined) {
      list.push({
        name: 'model-draft',
        path: args.model,
        prompt,
        options: { temperature: 0 },
        spec: { draftModel: args.draft },
      });
    }
  }
  return list;
}

async function timed(model, c) {
  const options = { maxTokens: tokens, ignoreEos: true, ...c.options };
  const started = performance.now();
  const result =
    c.messages !== undefined && model.info.chatTemplate !== undefined
      ? await model.chat(c.messages, options)
      : await model.generate(c.prompt, options);
  return { tps: result.tokens.length / ((performance.now() - started) / 1000), result };
}

const rows = [];
const only = args.only?.split(',');
for (const c of (await cases()).filter((c) => only === undefined || only.includes(c.name))) {
  const gpuLayers = args['gpu-layers'] === 'all' ? 'all' : Number(args['gpu-layers']);
  const base = { contextSize: c.contextSize ?? 1024, threads, gpuLayers };
  const plain = await LlamaModel.load(c.path, base);
  const spec = await LlamaModel.load(c.path, { ...base, speculative: c.spec });
  try {
    // Warm-up, and the reference output.
    const reference = (await timed(plain, c)).result;
    const first = (await timed(spec, c)).result;
    const same =
      first.tokens.length === reference.tokens.length &&
      first.tokens.every((token, i) => token === reference.tokens[i]);
    const plainRuns = [];
    const specRuns = [];
    let drafted = 0;
    let accepted = 0;
    for (let r = 0; r < rounds; r++) {
      plainRuns.push((await timed(plain, c)).tps);
      const run = await timed(spec, c);
      specRuns.push(run.tps);
      drafted += run.result.timings.draftTokens;
      accepted += run.result.timings.acceptedTokens;
    }
    const row = {
      case: c.name,
      tokens: reference.tokens.length,
      plain: median(plainRuns),
      speculative: median(specRuns),
      drafted: drafted / rounds,
      accepted: accepted / rounds,
      same,
    };
    rows.push(row);
    log(`${c.name}: ${fmt(row.plain)} → ${fmt(row.speculative)} t/s, accepted ${row.accepted}/${row.drafted}`);
  } finally {
    await Promise.all([plain.dispose(), spec.dispose()]);
  }
}

console.log(`\nSpeculative decoding, ${threads} threads, median of ${rounds} rounds\n`);
console.log(
  tableRow(['case', 'tokens', 'plain t/s', 'speculative t/s', 'speed-up', 'accepted / drafted', 'same tokens']),
);
console.log(tableRow(['---', '---:', '---:', '---:', '---:', '---:', '---']));
for (const row of rows) {
  const share =
    row.drafted > 0
      ? `${row.accepted.toFixed(0)} / ${row.drafted.toFixed(0)} (${((100 * row.accepted) / row.drafted).toFixed(0)}%)`
      : '0 / 0';
  console.log(
    tableRow([
      row.case,
      String(row.tokens),
      fmt(row.plain),
      fmt(row.speculative),
      ratio(row.speculative, row.plain),
      share,
      row.same ? 'yes' : 'no (a near-tie; see docs/api.md)',
    ]),
  );
}
