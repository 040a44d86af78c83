#!/usr/bin/env node
// Makes the prebuilt binary: `npm run prebuild:native` → prebuilds/<platform>-<arch>/, with
// prebuildify (strip, N-API tags) driving our cmake-js build through scripts/prebuild-shim.mjs.
// The binary is portable: ggml's CPU backend is built for every feature level of the architecture
// (LLAMA_NAPI_CPU_VARIANTS) as libggml-cpu-<variant>.so beside the addon, and the best one for the
// machine is loaded at run time — no -march=native. node-gyp-build loads it on install.
//
// The development build in build/Release is set aside while prebuildify works there, and put back.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const release = join(root, 'build', 'Release');
const parked = join(root, 'build', `Release.dev-${process.pid}`);
const outDir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);

const started = Date.now();
if (existsSync(release)) renameSync(release, parked);
let status = 1;
try {
  rmSync(outDir, { recursive: true, force: true });
  const prebuildify = join(dirname(require.resolve('prebuildify/package.json')), 'bin.js');
  const run = spawnSync(
    process.execPath,
    [
      prebuildify,
      '--napi',
      '--strip',
      '--tag-libc',
      '--name',
      'llama-napi',
      '--node-gyp',
      join(root, 'scripts', 'prebuild-shim.mjs'),
      '--cache',
      join(root, 'build-variants', 'prebuildify-cache'),
      '--out',
      root,
    ],
    { cwd: root, stdio: 'inherit' },
  );
  status = run.status ?? 1;
} finally {
  rmSync(release, { recursive: true, force: true });
  if (existsSync(parked)) renameSync(parked, release);
}
if (status !== 0) {
  console.error('[llama-napi] prebuild failed');
  process.exit(status);
}
let bytes = 0;
for (const file of readdirSync(outDir)) bytes += statSync(join(outDir, file)).size;
console.error(
  `[llama-napi] ${outDir}: ${readdirSync(outDir).length} files, ${(bytes / 1048576).toFixed(1)} MiB, ` +
    `in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
