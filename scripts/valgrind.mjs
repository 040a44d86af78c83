#!/usr/bin/env node
// valgrind memcheck over a short real run: load a model, tokenize, generate (streamed, with a stop
// string and a grammar), embed, abort one generation, dispose. Node itself is not built for
// valgrind, so the report counts only errors with a frame in the addon (which contains llama.cpp);
// any such error fails the run.
//
// Usage: npm run valgrind [-- <model.gguf>]   (a few minutes: everything runs ~30× slower)
// valgrind does not implement AVX-512: on such a CPU run it against the portable prebuild
// (LLAMA_NAPI_ADDON=prebuilds/linux-x64/llama-napi.glibc.node), whose CPU variant is chosen by
// the CPUID valgrind reports.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const model = process.argv[2] ?? join(root, 'test', '.models', 'spmF32.gguf');
if (!existsSync(model)) {
  console.error(`[valgrind] no model at ${model}: run npm test once (it writes the test models) or pass one`);
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), 'llama-napi-valgrind-'));
const script = join(work, 'run.mjs');
writeFileSync(
  script,
  `
const { LlamaModel } = await import(${JSON.stringify(join(root, 'dist', 'index.js'))});
const model = await LlamaModel.load(${JSON.stringify(model)}, { contextSize: 256, sequences: 2, threads: 2 });
const tokens = await model.tokenize('Hello world, this is a test');
await model.detokenize(tokens);
const a = model.generate('Once upon a time', { temperature: 0.8, seed: 1, maxTokens: 12, stop: ['e'] });
const b = model.generate('Hello', { grammar: 'root ::= [a-z ]+', maxTokens: 8 });
const controller = new AbortController();
const c = model.generate('Abort me', { maxTokens: 200, signal: controller.signal }).catch((e) => e.code);
setTimeout(() => controller.abort(), 50);
const chunks = [];
for await (const chunk of model.stream('Stream', { maxTokens: 6, temperature: 0 })) chunks.push(chunk.text);
const results = await Promise.all([a, b, c]);
await model.embed('an embedding');
await model.dispose();
const { listDevices } = await import(${JSON.stringify(join(root, 'dist', 'index.js'))});
const cpu = (await listDevices()).find((d) => d.type === 'cpu');
console.log('done', results.length, chunks.length, cpu?.library.split('/').pop() ?? 'static CPU backend');
`,
);
const xml = join(work, 'memcheck.xml');
const started = Date.now();
const run = spawnSync(
  'valgrind',
  [
    '--tool=memcheck',
    '--leak-check=full',
    '--xml=yes',
    `--xml-file=${xml}`,
    '--num-callers=30',
    process.execPath,
    '--jitless',
    script,
  ],
  { encoding: 'utf8', env: { ...process.env, LLAMA_NAPI_LOG_LEVEL: 'error' }, maxBuffer: 1 << 26 },
);
const seconds = ((Date.now() - started) / 1000).toFixed(0);
if (run.error) {
  console.error(`[valgrind] could not run valgrind: ${run.error.message}`);
  process.exit(2);
}
const report = existsSync(xml) ? readFileSync(xml, 'utf8') : '';
const errors = report.split('<error>').slice(1);
// An error is ours when its innermost frame with an object file is in the addon or its libraries
// (not, say, V8's conservative stack scan passing over one of our frames).
const ADDON = /llama_napi\.node|llama-napi\.[a-z.]*node|libllama-napi-|libggml-cpu-/;
// For a leak, the innermost frame is the allocator (valgrind's preload): the allocation's first
// frame past it is the one that counts.
const innermost = (error) =>
  [...error.matchAll(/<obj>([^<]*)<\/obj>/g)].map((m) => m[1]).find((obj) => !/vgpreload/.test(obj)) ?? '';
const ours = errors.filter((error) => ADDON.test(innermost(error)));
console.log(`[valgrind] exit ${run.status ?? run.signal}, ${seconds} s; stdout: ${run.stdout.trim()}`);
if (run.status !== 0) console.log(run.stderr.split('\n').slice(-15).join('\n'));
console.log(`[valgrind] memcheck errors: ${errors.length} in all, ${ours.length} raised in the addon or llama.cpp`);
const elsewhere = new Map();
for (const error of errors.filter((e) => !ours.includes(e))) {
  const where = `${/<kind>([^<]*)<\/kind>/.exec(error)?.[1]} in ${innermost(error).split('/').pop() || '?'}`;
  elsewhere.set(where, (elsewhere.get(where) ?? 0) + 1);
}
for (const [where, count] of elsewhere) console.log(`  elsewhere: ${count} × ${where}`);
for (const error of ours.slice(0, 10)) {
  const kind = /<kind>([^<]*)<\/kind>/.exec(error)?.[1];
  const bytes = /<leakedbytes>([^<]*)<\/leakedbytes>/.exec(error)?.[1];
  const frames = [...error.matchAll(/<frame>([\s\S]*?)<\/frame>/g)].slice(0, 8).map(([, frame]) => {
    const fn = /<fn>([^<]*)<\/fn>/.exec(frame)?.[1];
    const file = /<file>([^<]*)<\/file>/.exec(frame)?.[1];
    const line = /<line>([^<]*)<\/line>/.exec(frame)?.[1];
    const obj = (/<obj>([^<]*)<\/obj>/.exec(frame)?.[1] ?? '?').split('/').pop();
    return `${fn ?? '??'}${file ? ` (${file}:${line})` : ` [${obj}]`}`;
  });
  console.log(`  ${kind}${bytes ? ` (${bytes} bytes)` : ''}:\n    ${frames.join('\n    ')}`);
}
rmSync(work, { recursive: true, force: true });
process.exit(run.status === 0 && ours.length === 0 && /^done 3 /.test(run.stdout) ? 0 : 1);
