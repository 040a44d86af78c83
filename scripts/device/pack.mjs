#!/usr/bin/env node
// Packs what the GPU machine (the `device` tool) needs and does not have into .dev/device/
// (git-ignored): Node itself, node_modules (without TypeScript: the GPU suite and bench run the
// compiled dist/ and vitest), the llama.cpp sources the CUDA build and its tools need (no models but
// the SPM vocabulary, no docs, examples or tools but llama-simple, llama-bench and llama-quantize),
// and ../shared/models/stories260K.gguf when present. The device carries the working tree plus the
// paths named in `carry` (64 MiB in all), so everything big travels xz-compressed.
//
// Usage: npm run build && node scripts/device/pack.mjs
// Then one device call (see the README, "GPU checks on the device"):
//   run({ command: 'bash scripts/device/gpu.sh', carry: ['.dev/device', 'dist'], timeout_s: 600 })
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, '.dev', 'device');
const llamaCpp = join(root, 'vendor', 'llama.cpp');
const mib = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;
const log = (message) => console.error(`[device pack] ${message}`);

for (const [what, path] of [
  ['dist/ (npm run build)', join(root, 'dist', 'index.js')],
  ['node_modules (npm install)', join(root, 'node_modules', 'vitest')],
  ['vendor/llama.cpp (npm install or npm run vendor)', join(llamaCpp, 'include', 'llama.h')],
]) {
  if (!existsSync(path)) {
    console.error(`[device pack] ${what} is missing`);
    process.exit(1);
  }
}
mkdirSync(out, { recursive: true });
const xz = (args) => execFileSync('bash', ['-c', args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, XZ_OPT: '-T2 -6' } });

// Node: one binary (v20 runs on the device's Ubuntu 24.04).
const node = join(out, 'node.xz');
if (!existsSync(node)) xz(`xz -T2 -c ${JSON.stringify(process.execPath)} > ${JSON.stringify(node)}`);

// node_modules without TypeScript (24 MB; types are checked here, not there).
const modules = join(out, 'node_modules.tar.xz');
rmSync(modules, { force: true });
xz(`tar -cJf ${JSON.stringify(modules)} --exclude=node_modules/typescript --exclude=node_modules/.cache node_modules`);

// llama.cpp: what the addon's CMake build, llama-simple, llama-bench and llama-quantize compile.
const keepTools = new Set(['llama-bench', 'quantize']);
const excluded = [
  ...readdirSync(join(llamaCpp, 'tools')).filter((tool) => !keepTools.has(tool)).map((tool) => `./tools/${tool}`),
  ...readdirSync(join(llamaCpp, 'examples')).filter((example) => example !== 'simple').map((example) => `./examples/${example}`),
  ...readdirSync(join(llamaCpp, 'models')).filter((file) => file !== 'ggml-vocab-llama-spm.gguf').map((file) => `./models/${file}`),
  './docs', './tests', './gguf-py', './media', './.github', './benches', './pocs', './grammars', './prompts', './requirements', './.devops',
  './app', './conversion', './skills', './ci',
].filter((path) => existsSync(join(llamaCpp, path)));
const sources = join(out, 'llama.cpp.tar.xz');
rmSync(sources, { force: true });
xz(`tar -cJf ${JSON.stringify(sources)} -C ${JSON.stringify(llamaCpp)} ${excluded.map((path) => `--exclude=${JSON.stringify(path)}`).join(' ')} .`);

// The real trained model, for the greedy-parity test.
const stories = join(root, '..', 'shared', 'models', 'stories260K.gguf');
if (existsSync(stories)) copyFileSync(stories, join(out, 'stories260K.gguf'));
else log(`${stories} is absent: the stories260K GPU test will be skipped`);

let total = 0;
for (const file of readdirSync(out)) {
  const size = statSync(join(out, file)).size;
  total += size;
  log(`${file}: ${mib(size)}`);
}
let dist = 0;
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) walk(join(dir, entry.name));
    else dist += statSync(join(dir, entry.name)).size;
  }
};
walk(join(root, 'dist'));
log(`.dev/device ${mib(total)} + dist ${mib(dist)} + the working tree; the device carries 64 MiB in all`);
log("next: the device tool's run with command 'bash scripts/device/gpu.sh', carry ['.dev/device', 'dist'], timeout_s 600");
