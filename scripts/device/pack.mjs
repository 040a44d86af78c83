#!/usr/bin/env node
// Packs what the GPU machine (the `device` tool) needs and does not have into .dev/device/
// (git-ignored): Node itself (stripped), node_modules (without TypeScript and type packages: the GPU
// suite and bench run the compiled dist/ and vitest), ../shared/models/stories260K.gguf when
// present, and the build: the prebuilt CUDA kit (scripts/device/kit.mjs) when it is there and
// current, and the llama.cpp sources for a build on the device (no models but the SPM vocabulary,
// no docs, examples or tools but llama-simple, llama-bench and llama-quantize). The device carries
// the working tree plus the paths named in `carry`, 64 MiB in all, so everything big travels
// xz-compressed, and the pack checks the total.
//
// Usage: npm run build && node scripts/device/pack.mjs [--no-sources]
//   --no-sources  leave llama.cpp's sources out (then gpu.sh can only use the kit): when the kit
//                 and the sources do not fit together
// Then, on the CUDA machine, with the working tree, .dev/device and dist copied there (see
// docs/development.md, "Testing on a CUDA machine"):  bash scripts/device/gpu.sh
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { fingerprint } from './fingerprint.mjs';

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
const xz = (args) =>
  execFileSync('bash', ['-c', args], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, XZ_OPT: '-T2 -6' },
  });

const withSources = !process.argv.includes('--no-sources');
const budget = 64 * 1048576;

// Node: one binary (v20 runs on the device's Ubuntu 24.04), stripped of its symbol table (99 → 86
// MB; the dynamic symbols that addons link against stay).
const node = join(out, 'node.xz');
if (!existsSync(node)) {
  const stripped = join(out, 'node.stripped');
  copyFileSync(process.execPath, stripped);
  execFileSync('strip', [stripped]);
  xz(`xz -T2 -9 -c ${JSON.stringify(stripped)} > ${JSON.stringify(node)}`);
  rmSync(stripped);
}

// node_modules without TypeScript and the type packages (types are checked here, not there).
const modules = join(out, 'node_modules.tar.xz');
rmSync(modules, { force: true });
const moduleExcludes = ['typescript', '@types', '.cache', '.vite'].map((name) => `--exclude=node_modules/${name}`);
xz(`tar -cJf ${JSON.stringify(modules)} ${moduleExcludes.join(' ')} node_modules`);

// The prebuilt kit: used on the device only if it was built from these native sources.
const kit = join(out, 'cuda-kit.tar.xz');
if (existsSync(kit)) {
  const manifest = JSON.parse(execFileSync('tar', ['-xJOf', kit, 'kit.json'], { encoding: 'utf8' }));
  if (manifest.fingerprint !== fingerprint(manifest.archs)) {
    log(
      'the CUDA kit was built from other native sources: ' +
        'rebuild it (node scripts/device/kit.mjs relinks in seconds) or the device compiles (~5 min)',
    );
  } else {
    log(`the CUDA kit is current (CUDA ${manifest.cuda}, archs ${manifest.archs}, built ${manifest.built})`);
  }
} else {
  log('no CUDA kit (node scripts/device/kit.mjs): the device will compile the addon (~5 of its minutes)');
}

// llama.cpp: what the addon's CMake build, llama-simple, llama-bench and llama-quantize compile.
const keepTools = new Set(['llama-bench', 'quantize']);
const excluded = [
  ...readdirSync(join(llamaCpp, 'tools'))
    .filter((tool) => !keepTools.has(tool))
    .map((tool) => `./tools/${tool}`),
  ...readdirSync(join(llamaCpp, 'examples'))
    .filter((example) => example !== 'simple')
    .map((example) => `./examples/${example}`),
  ...readdirSync(join(llamaCpp, 'models'))
    .filter((file) => file !== 'ggml-vocab-llama-spm.gguf')
    .map((file) => `./models/${file}`),
  './docs',
  './tests',
  './gguf-py',
  './media',
  './.github',
  './benches',
  './pocs',
  './grammars',
  './prompts',
  './requirements',
  './.devops',
  './app',
  './conversion',
  './skills',
  './ci',
].filter((path) => existsSync(join(llamaCpp, path)));
const sources = join(out, 'llama.cpp.tar.xz');
rmSync(sources, { force: true });
if (withSources) {
  const sourceExcludes = excluded.map((path) => `--exclude=${JSON.stringify(path)}`);
  xz(`tar -cJf ${JSON.stringify(sources)} -C ${JSON.stringify(llamaCpp)} ${sourceExcludes.join(' ')} .`);
}

// The bench models' vocabulary, for when the sources stay here.
const vocab = join(out, 'ggml-vocab-llama-spm.gguf');
rmSync(vocab, { force: true });
if (!withSources) copyFileSync(join(llamaCpp, 'models', 'ggml-vocab-llama-spm.gguf'), vocab);

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
// The working tree that travels: what git tracks, and untracked files it does not ignore.
const tree = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\0')
  .filter(Boolean)
  .reduce((sum, file) => sum + (existsSync(join(root, file)) ? statSync(join(root, file)).size : 0), 0);
const all = total + dist + tree;
log(
  `.dev/device ${mib(total)} + dist ${mib(dist)} + the working tree ${mib(tree)} = ${mib(all)} of the device's 64 MiB`,
);
if (all > budget) {
  log(
    withSources
      ? 'too big: pack again with --no-sources (the kit must then be current)'
      : 'too big even without the sources',
  );
  process.exit(1);
}
if (!withSources && !existsSync(kit)) {
  log('without the sources the device needs the kit: run node scripts/device/kit.mjs');
  process.exit(1);
}
log('next: copy the tree with .dev/device and dist to the CUDA machine and run bash scripts/device/gpu.sh there');
