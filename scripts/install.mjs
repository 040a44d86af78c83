#!/usr/bin/env node
// npm's install step: use the prebuilt binary when one loads on this platform, otherwise build the
// addon and llama.cpp from source with cmake-js (scripts/build-native.mjs; needs cmake and a C++17
// compiler). A GPU build (LLAMA_NAPI_GPU=cuda|vulkan) or LLAMA_NAPI_FROM_SOURCE=1 always builds:
// the prebuilt binary is CPU-only.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const truthy = (value) => value !== undefined && !['', '0', 'false', 'off', 'no'].includes(value.toLowerCase());
const gpu = (process.env.LLAMA_NAPI_GPU ?? 'off').toLowerCase();
const wantsSource = truthy(process.env.LLAMA_NAPI_FROM_SOURCE) || gpu !== 'off';

/** Whether node-gyp-build finds a binary (prebuilt or built earlier) that loads here, and why not. */
function probeBinary() {
  const nodeGypBuild = createRequire(join(root, 'package.json')).resolve('node-gyp-build');
  const probe = spawnSync(
    process.execPath,
    ['-e', `require(${JSON.stringify(nodeGypBuild)})(${JSON.stringify(root)})`],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LLAMA_NAPI_LOG_LEVEL: 'none' },
    },
  );
  // The error's own line: "Error: …: version `GLIBC_2.34' not found …", "Error: No native build …".
  const reason = (probe.stderr ?? '').split('\n').find((line) => /^[A-Za-z]*Error: /.test(line)) ?? '';
  return { loads: probe.status === 0, reason: reason.replace(/^[A-Za-z]*Error: /, '').trim() };
}

const platform = `${process.platform}-${process.arch}`;
let why;
if (wantsSource) {
  why = gpu !== 'off' ? `LLAMA_NAPI_GPU=${gpu}` : 'LLAMA_NAPI_FROM_SOURCE';
} else {
  const probe = probeBinary();
  if (probe.loads) {
    console.error('[llama-napi] using the prebuilt binary');
    process.exit(0);
  }
  why = existsSync(join(root, 'prebuilds', platform))
    ? `the prebuilt binary for ${platform} does not load here (${probe.reason || 'no reason given'})`
    : `no prebuilt binary for ${platform}`;
}
console.error(
  `[llama-napi] ${why}: building from source${gpu !== 'off' ? ` with ${gpu}` : ''} (cmake-js; a few minutes)`,
);
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { cwd: root, stdio: 'inherit' });
process.exit(build.status ?? 1);
