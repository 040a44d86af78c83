#!/usr/bin/env node
// Every architecture llama.cpp can save: test-llama-archs writes a random-weight model of each
// (-o DIR), and each is checked in a process of its own (an abort takes only that one down):
//   simple    greedy text identical to llama.cpp's llama-simple
//   repeat    the same prompt again in the same context (reusing its cache) gives the same tokens
//   parallel  three prompts at once in three sequences give what each gives alone
//   shift     contextShift either works or is refused with UNSUPPORTED (never an abort)
// Prints one line per architecture and the totals; exits 1 if any check failed.
//
// Usage: npm run build && node scripts/arch-sweep.mjs [--arch REGEX] [--out DIR] [--json FILE]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const bin = join(root, 'build', 'oracle', 'bin');
const prompt = 'Hello world';
const maxTokens = 16;

if (process.argv[2] === '--child') {
  // One architecture: node arch-sweep.mjs --child MODEL EXPECTED_HEX
  const [, , , path, expectedHex] = process.argv;
  const { LlamaModel } = await import(join(root, 'dist', 'index.js'));
  const { loadAddon } = await import(join(root, 'dist', 'native.js'));
  const addon = loadAddon();
  const model = await LlamaModel.load(path, { contextSize: 256, sequences: 3, threads: 2 });
  const greedy = { temperature: 0, maxTokens };
  const report = {};
  const solo = await model.generate(prompt, greedy);
  const vocab = await addon.loadModel(path, { vocabOnly: true });
  const promptTokens = await model.tokenize(prompt, { parseSpecial: true });
  const pieces = await vocab.tokenToPiece([...promptTokens, ...solo.tokens], { special: true });
  vocab.dispose();
  report.simple = Buffer.concat([...pieces, Buffer.from('\n')]).toString('hex') === expectedHex;
  report.repeat = JSON.stringify((await model.generate(prompt, greedy)).tokens) === JSON.stringify(solo.tokens);
  const prompts = [prompt, 'The cat sat', 'Once'];
  const alone = [];
  for (const text of prompts) alone.push((await model.generate(text, greedy)).tokens);
  const together = await Promise.all(prompts.map((text) => model.generate(text, greedy)));
  report.parallel = together.every((result, i) => JSON.stringify(result.tokens) === JSON.stringify(alone[i]));
  try {
    await model.generate(prompt, { ...greedy, contextShift: true });
    report.shift = 'ok';
  } catch (error) {
    report.shift = error.code === 'UNSUPPORTED' ? 'unsupported' : `error ${error.code}`;
  }
  await model.dispose();
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}

const out = option('--out', join(root, 'build', 'archs'));
if (!existsSync(join(bin, 'test-llama-archs')) || !existsSync(join(bin, 'llama-simple'))) {
  spawnSync(process.execPath, [join(root, 'scripts', 'build-oracle.mjs'), 'llama-simple', 'test-llama-archs'], {
    stdio: 'inherit',
  });
}
mkdirSync(out, { recursive: true });
const arch = option('--arch', undefined);
const write = spawnSync(join(bin, 'test-llama-archs'), [...(arch ? ['-a', arch] : []), '-o', out], {
  encoding: 'utf8',
});
if (write.status !== 0) {
  console.error(write.stderr);
  process.exit(1);
}
const models = readdirSync(out)
  .filter((name) => name.endsWith('.gguf'))
  .sort();
const rows = [];
for (const file of models) {
  const path = join(out, file);
  const simple = spawnSync(join(bin, 'llama-simple'), ['-m', path, '-n', String(maxTokens), prompt], {
    maxBuffer: 1 << 24,
  });
  const expected = simple.status === 0 ? simple.stdout.toString('hex') : '';
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', path, expected], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  const name = file.slice(0, -'.gguf'.length);
  let row;
  try {
    row = { arch: name, ...JSON.parse(child.stdout.trim().split('\n').pop()) };
  } catch {
    const why = (child.stderr || '').trim().split('\n').pop() ?? '';
    row = { arch: name, crashed: child.signal ?? `exit ${child.status}`, why };
  }
  if (simple.status !== 0) row.simple = 'llama-simple failed';
  rows.push(row);
  const ok = !row.crashed && row.simple === true && row.repeat && row.parallel && !`${row.shift}`.startsWith('error');
  row.ok = ok;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${JSON.stringify(row)}`);
}
const passed = rows.filter((row) => row.ok).length;
console.log(`\n${passed} / ${rows.length} architectures pass every check`);
for (const key of ['simple', 'repeat', 'parallel']) {
  const failed = rows.filter((row) => !row.crashed && row[key] !== true).map((row) => row.arch);
  console.log(
    `${key}: ${rows.length - failed.length} / ${rows.length}${failed.length ? ` (not: ${failed.join(', ')})` : ''}`,
  );
}
const crashed = rows.filter((row) => row.crashed).map((row) => row.arch);
console.log(`crashed: ${crashed.length}${crashed.length ? ` (${crashed.join(', ')})` : ''}`);
const json = option('--json', undefined);
if (json) writeFileSync(json, `${JSON.stringify(rows, null, 2)}\n`);
process.exit(passed === rows.length ? 0 : 1);
