#!/usr/bin/env node
// Makes the prebuilt binaries: `npm run prebuild:native [-- --platform linux-x64,linux-arm64,win32-x64|all]`
// → prebuilds/<platform>-<arch>/, with prebuildify (strip, N-API tags) driving our cmake-js build
// through scripts/prebuild-shim.mjs. Without --platform it builds this machine's platform.
//
// Each binary is portable: ggml's CPU backend is built for every feature level of the architecture
// (LLAMA_NAPI_CPU_VARIANTS) as a shared module beside the addon (libggml-cpu-<variant>.so, or
// ggml-cpu-<variant>.dll), and the best one for the machine is loaded at run time. linux-arm64 and
// win32-x64 are cross-compiled on x86-64 Linux with Debian's g++-aarch64-linux-gnu and
// g++-mingw-w64-x86-64-posix (scripts/cross/<platform>.cmake); `npm run test:platforms` runs them
// under qemu and wine.
//
// The development build in build/Release is set aside while prebuildify works there, and put back.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const release = join(root, 'build', 'Release');
const host = `${process.platform}-${process.arch}`;

// ggml's x86-64 variants for Cannon Lake (one laptop CPU) and Cooper Lake (4- and 8-socket Xeons)
// stay out of the package: those CPUs run the skylakex and cascadelake variants, losing only
// AVX512_VBMI (which icelake and zen4 bring anyway) and AVX512_BF16, while the package stays under
// 30 MB with three platforms.
const rareX64 = ['cannonlake', 'cooperlake'];

/** What each platform needs here (compiler, strip) and the CPU variants left out of its folder. */
const targets = {
  'linux-x64': {
    libc: true,
    strip: 'strip',
    compiler: 'g++',
    debian: 'g++',
    leaveOut: rareX64.map((name) => `libggml-cpu-${name}.so`),
  },
  'linux-arm64': {
    libc: true,
    strip: 'aarch64-linux-gnu-strip',
    compiler: 'aarch64-linux-gnu-g++',
    debian: 'g++-aarch64-linux-gnu',
    leaveOut: [],
  },
  'win32-x64': {
    libc: false,
    strip: 'x86_64-w64-mingw32-strip',
    compiler: 'x86_64-w64-mingw32-g++-posix',
    debian: 'g++-mingw-w64-x86-64-posix',
    leaveOut: rareX64.map((name) => `ggml-cpu-${name}.dll`),
  },
};

const { values } = parseArgs({ options: { platform: { type: 'string', default: host } } });
const platforms = values.platform === 'all' ? Object.keys(targets) : values.platform.split(',');
for (const platform of platforms) {
  if (!(platform in targets)) {
    console.error(`[llama-napi] unknown platform ${platform}: one of ${Object.keys(targets).join(', ')} or all`);
    process.exit(2);
  }
  const cross = platform !== host;
  if (cross && host !== 'linux-x64') {
    console.error(`[llama-napi] ${platform} is cross-compiled on linux-x64 only (this is ${host})`);
    process.exit(2);
  }
  const { compiler, debian } = targets[platform];
  if (spawnSync(compiler, ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.error(`[llama-napi] ${platform} needs ${compiler} (Debian: apt-get install ${debian})`);
    process.exit(2);
  }
}

/** prebuildify for one platform; returns its exit status. */
function prebuild(platform) {
  const [os, arch] = platform.split('-');
  const target = targets[platform];
  const prebuildify = join(dirname(require.resolve('prebuildify/package.json')), 'bin.js');
  const run = spawnSync(
    process.execPath,
    [
      prebuildify,
      '--napi',
      '--strip',
      '--strip-bin',
      target.strip,
      ...(target.libc ? ['--tag-libc'] : []),
      '--platform',
      os,
      '--arch',
      arch,
      '--name',
      'llama-napi',
      '--node-gyp',
      join(root, 'scripts', 'prebuild-shim.mjs'),
      '--cache',
      join(root, 'build-variants', 'prebuildify-cache'),
      '--out',
      root,
    ],
    { cwd: root, stdio: 'inherit', env: { ...process.env, LLAMA_NAPI_PREBUILD_PLATFORM: platform } },
  );
  return run.status ?? 1;
}

for (const platform of platforms) {
  const started = Date.now();
  const outDir = join(root, 'prebuilds', platform);
  const parked = join(root, 'build', `Release.dev-${process.pid}`);
  if (existsSync(release)) renameSync(release, parked);
  let status = 1;
  try {
    rmSync(outDir, { recursive: true, force: true });
    status = prebuild(platform);
  } finally {
    rmSync(release, { recursive: true, force: true });
    if (existsSync(parked)) renameSync(parked, release);
  }
  if (status !== 0) {
    console.error(`[llama-napi] prebuild for ${platform} failed`);
    process.exit(status);
  }
  for (const file of targets[platform].leaveOut) rmSync(join(outDir, file), { force: true });
  let bytes = 0;
  for (const file of readdirSync(outDir)) bytes += statSync(join(outDir, file)).size;
  console.error(
    `[llama-napi] ${outDir}: ${readdirSync(outDir).length} files, ${(bytes / 1048576).toFixed(1)} MiB, ` +
      `in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}
