#!/usr/bin/env node
// npm's install step: use the prebuilt binary when one loads on this platform, otherwise build the
// addon and llama.cpp from source with cmake-js (scripts/build-native.mjs; needs cmake and a C++17
// compiler). A GPU build (LLAMA_NAPI_GPU=cuda|vulkan) or LLAMA_NAPI_FROM_SOURCE=1 always builds:
// the prebuilt binary is CPU-only.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const truthy = (value) => value !== undefined && !['', '0', 'false', 'off', 'no'].includes(value.toLowerCase());
const gpu = (process.env.LLAMA_NAPI_GPU ?? 'off').toLowerCase();
const wantsSource = truthy(process.env.LLAMA_NAPI_FROM_SOURCE) || gpu !== 'off';

/** True when node-gyp-build finds a binary (prebuilt or built earlier) that loads here. */
function binaryLoads() {
  const nodeGypBuild = createRequire(join(root, 'package.json')).resolve('node-gyp-build');
  const probe = spawnSync(
    process.execPath,
    ['-e', `require(${JSON.stringify(nodeGypBuild)})(${JSON.stringify(root)})`],
    {
      stdio: 'ignore',
      env: { ...process.env, LLAMA_NAPI_LOG_LEVEL: 'none' },
    },
  );
  return probe.status === 0;
}

if (!wantsSource && binaryLoads()) {
  console.error('[llama-napi] using the prebuilt binary');
  process.exit(0);
}
console.error(`[llama-napi] building from source${gpu !== 'off' ? ` with ${gpu}` : ''} (cmake-js; a few minutes)`);
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { cwd: root, stdio: 'inherit' });
process.exit(build.status ?? 1);
