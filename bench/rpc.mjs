#!/usr/bin/env node
// RPC: what llama.cpp's RPC backend costs. A model run locally and with its layers on one and on two
// RPC servers on this machine (startRpcServer, loopback), in the same run: prompt and generation
// tokens/s (medians of alternating rounds) and their ratio to local, and the bytes the client sends
// and receives per generated token (counted by a TCP relay in front of each server, in a run of its
// own so that the relay's cost stays out of the timings). Every split run is checked against the
// local one: the same greedy text. With the oracle build, llama.cpp's own client (llama-completion
// --rpc) is timed on the same servers beside ours.
//
// Models: stories260K (the protocol's cost per step dominates) and a random 58 M F16 model (8 layers
// of 512, as bench:speculative's), or --model M.gguf.
//
// Usage: npm run bench:rpc [-- --rounds 3 --prompt 128 --tokens 64 --threads 2 --model M.gguf]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { createRandomLlama } from '../dist/gguf/index.js';
import { LlamaModel, startRpcServer } from '../dist/index.js';
import { fmt, median, ratio, tableRow } from './measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'bench', '.work');
const stories = join(root, '..', 'shared', 'models', 'stories260K.gguf');
const vocab = join(root, 'vendor', 'llama.cpp', 'models', 'ggml-vocab-llama-spm.gguf');
const completion = join(root, 'build', 'oracle', 'bin', 'llama-completion');

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    prompt: { type: 'string', default: '128' },
    tokens: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    model: { type: 'string' },
  },
});
const rounds = Number(args.rounds);
const promptTokens = Number(args.prompt);
const tokens = Number(args.tokens);
const threads = Number(args.threads);
const log = (message) => console.error(`[bench] ${message}`);

async function randomModel() {
  const path = join(work, 'rpc-58m-f16.gguf');
  if (existsSync(path)) return path;
  mkdirSync(work, { recursive: true });
  const shape = { embeddingLength: 512, layerCount: 8, headCount: 8, feedForwardLength: 1376 };
  await createRandomLlama({ ...shape, type: 'f16', vocabPath: vocab, outputPath: `${path}.tmp`, seed: 5, name: 'rpc' });
  renameSync(`${path}.tmp`, path);
  return path;
}

/** A TCP relay to `port` that counts the bytes each way. */
function relay(port) {
  const counts = { sent: 0, received: 0 };
  const sockets = new Set();
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port });
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('data', (data) => {
      counts.sent += data.length;
      upstream.write(data);
    });
    upstream.on('data', (data) => {
      counts.received += data.length;
      client.write(data);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        endpoint: `127.0.0.1:${server.address().port}`,
        counts,
        close: () => {
          for (const socket of sockets) socket.destroy();
          return new Promise((done) => server.close(done));
        },
      }),
    ),
  );
}

/** A prompt of about `count` tokens of plain text. */
async function promptOf(model, count) {
  const words = 'the little dog ran to the park and saw a big red ball under a tree '.repeat(64);
  const ids = await model.tokenize(words);
  return model.detokenize(ids.slice(0, count));
}

const greedy = (maxTokens) => ({ temperature: 0, maxTokens, ignoreEos: true });

/** One round on a loaded model: prompt t/s (fresh prompt), generation t/s, and the text. */
async function round(model, prompt, salt) {
  // A prefix of its own each round, so the prompt is evaluated, not reused.
  const result = await model.generate(`${salt} ${prompt}`, greedy(tokens));
  const t = result.timings;
  return {
    pp: (t.promptTokens * 1000) / t.promptMs,
    tg: ((t.generatedTokens - 1) * 1000) / t.generateMs,
    text: result.text,
  };
}

/** llama.cpp's own client: prompt and generation t/s of llama-completion on `rpc` (or locally). */
function llamaCompletion(path, prompt, rpc) {
  if (!existsSync(completion)) return null;
  const flags = ['-m', path, '-p', prompt, '-n', String(tokens), '--temp', '0', '-no-cnv', '--simple-io', '-t'];
  flags.push(String(threads), '--ignore-eos', '-c', '1024');
  if (rpc !== undefined) flags.push('--rpc', rpc, '-ngl', '99');
  const run = spawnSync(completion, flags, { encoding: 'utf8' });
  const lines = run.stderr.split('\n');
  const rate = (prompt) => {
    const line = lines.find((l) => / eval time =/.test(l) && /prompt eval/.test(l) === prompt);
    const match = line === undefined ? null : /([\d.]+) tokens per second/.exec(line);
    return match === null ? Number.NaN : Number(match[1]);
  };
  return { pp: rate(true), tg: rate(false) };
}

const models = args.model !== undefined ? [['model', args.model]] : [];
if (args.model === undefined) {
  if (existsSync(stories)) models.push(['stories260K', stories]);
  models.push(['58 M F16 (random)', await randomModel()]);
}

const servers = await Promise.all([startRpcServer({ port: 0, threads }), startRpcServer({ port: 0, threads })]);
const setups = [
  ['local', []],
  ['1 server', [servers[0].endpoint]],
  ['2 servers', [servers[0].endpoint, servers[1].endpoint]],
];
const rows = [];
try {
  for (const [name, path] of models) {
    const loaded = [];
    for (const [setup, rpcServers] of setups) {
      const model = await LlamaModel.load(path, {
        contextSize: 1024,
        threads,
        ...(rpcServers.length > 0 ? { rpcServers } : {}),
      });
      loaded.push({ setup, rpcServers, model, pp: [], tg: [], texts: [] });
    }
    const prompt = await promptOf(loaded[0].model, promptTokens);
    for (const entry of loaded) await round(entry.model, prompt, 'warm'); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const entry of loaded) {
        const result = await round(entry.model, prompt, `r${r}`);
        entry.pp.push(result.pp);
        entry.tg.push(result.tg);
        entry.texts.push(result.text);
      }
    }
    for (const entry of loaded) await entry.model.dispose();

    // Bytes per generated token: through relays, 1 token against tokens + 1 of the same prompt.
    const bytes = {};
    for (const entry of loaded.slice(1)) {
      const relays = await Promise.all(entry.rpcServers.map((endpoint) => relay(Number(endpoint.split(':')[1]))));
      const model = await LlamaModel.load(path, {
        contextSize: 1024,
        threads,
        rpcServers: relays.map((r) => r.endpoint),
      });
      const total = () => relays.reduce((sum, r) => sum + r.counts.sent + r.counts.received, 0);
      const sent = () => relays.reduce((sum, r) => sum + r.counts.sent, 0);
      await model.generate(`b ${prompt}`, greedy(1));
      const [t0, s0] = [total(), sent()];
      await model.generate(`c ${prompt}`, greedy(1));
      const [t1, s1] = [total(), sent()];
      await model.generate(`d ${prompt}`, greedy(tokens + 1));
      const [t2, s2] = [total(), sent()];
      const perToken = (t2 - t1 - (t1 - t0)) / tokens;
      const sentPerToken = (s2 - s1 - (s1 - s0)) / tokens;
      bytes[entry.setup] = { perToken, sentPerToken, prompt: t1 - t0 };
      await model.dispose();
      await Promise.all(relays.map((r) => r.close()));
    }

    const theirs = loaded.map((entry) =>
      llamaCompletion(path, prompt, entry.rpcServers.length > 0 ? entry.rpcServers.join(',') : undefined),
    );
    const base = { pp: median(loaded[0].pp), tg: median(loaded[0].tg) };
    loaded.forEach((entry, i) => {
      const pp = median(entry.pp);
      const tg = median(entry.tg);
      const row = {
        model: name,
        setup: entry.setup,
        pp,
        tg,
        ppRatio: pp / base.pp,
        tgRatio: tg / base.tg,
        same: entry.texts.every((text, r) => text === loaded[0].texts[r]),
        bytes: bytes[entry.setup],
        llamaCpp: theirs[i],
      };
      rows.push(row);
      if (!row.same) {
        const r = entry.texts.findIndex((text, k) => text !== loaded[0].texts[k]);
        const [a, b] = [loaded[0].texts[r], entry.texts[r]];
        let at = 0;
        while (at < a.length && a[at] === b[at]) at++;
        log(
          `${name}, ${entry.setup}: round ${r} differs from local at character ${at}: ` +
            `${JSON.stringify(a.slice(at, at + 40))} / ${JSON.stringify(b.slice(at, at + 40))}`,
        );
      }
      log(`${name}, ${entry.setup}: pp ${fmt(pp)} t/s, tg ${fmt(tg)} t/s, same text: ${row.same}`);
    });
  }
} finally {
  await Promise.all(servers.map((server) => server.close()));
}

console.log(
  `\nRPC over loopback, ${promptTokens}-token prompt, ${tokens} generated, ${threads} threads, medians of ${rounds}:\n`,
);
console.log(
  tableRow([
    'model',
    'layers on',
    'prompt t/s',
    'generation t/s',
    'vs local (pp / tg)',
    'llama-completion pp / tg t/s',
    'bytes per token (sent / total)',
    'same text',
  ]),
);
console.log(tableRow(['---', '---', '---:', '---:', '---:', '---:', '---:', '---']));
for (const row of rows) {
  const theirs = row.llamaCpp === null ? 'n/a' : `${fmt(row.llamaCpp.pp)} / ${fmt(row.llamaCpp.tg)}`;
  const bytes =
    row.bytes === undefined
      ? '—'
      : `${(row.bytes.sentPerToken / 1024).toFixed(1)} / ${(row.bytes.perToken / 1024).toFixed(1)} KiB`;
  console.log(
    tableRow([
      row.model,
      row.setup,
      fmt(row.pp),
      fmt(row.tg),
      row.setup === 'local' ? '—' : `${ratio(row.ppRatio, 1)} / ${ratio(row.tgRatio, 1)}`,
      theirs,
      bytes,
      row.same ? 'yes' : 'no',
    ]),
  );
}
