#!/usr/bin/env node
// Builds the addon (and llama.cpp with it) with cmake-js into build/, materializing llama.cpp first.
//
// Usage: node scripts/build-native.mjs [--target <cmake target>] [--debug]
//   LLAMA_CPP_DIR=/path         build against your own llama.cpp checkout
//   LLAMA_NAPI_GPU=cuda|vulkan  with a GPU backend (CUDA toolkit, or Vulkan SDK + glslc, needed;
//                               CUDA options in scripts/gpu-options.mjs)
//   LLAMA_NAPI_PORTABLE=1       no -march=native (binaries that run on any CPU of the architecture)
// The build directory is reused: touching one native/ file rebuilds only the addon. Installed as a
// dependency (inside node_modules), only the built addon is kept afterwards, not the build tree.
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cmakeJsBuild } from './cmake-js.mjs';
import { gpuBuildOptions } from './gpu-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const args = process.argv.slice(2);
const targetIndex = args.indexOf('--target');
const target = targetIndex >= 0 ? args[targetIndex + 1] : undefined;
const debug = args.includes('--debug');
const config = debug ? 'Debug' : 'Release';

const truthy = (value) => value !== undefined && !['', '0', 'false', 'off', 'no'].includes(value.toLowerCase());
const gpu = (process.env.LLAMA_NAPI_GPU || 'off').toLowerCase();
if (!['off', 'cuda', 'vulkan'].includes(gpu)) {
  console.error(`[llama-napi] LLAMA_NAPI_GPU must be off, cuda or vulkan (got ${process.env.LLAMA_NAPI_GPU})`);
  process.exit(1);
}
const { args: gpuArgs, env } = gpuBuildOptions(gpu);

const started = Date.now();
cmakeJsBuild(join(root, 'build'), {
  defines: { LLAMA_NAPI_PORTABLE: truthy(process.env.LLAMA_NAPI_PORTABLE) ? 'ON' : 'OFF', LLAMA_NAPI_GPU: gpu },
  args: gpuArgs,
  config,
  target,
  env,
});
console.error(
  `[llama-napi] native build${target ? ` (${target})` : ''} ` +
    `finished in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);

if (root.split(sep).includes('node_modules') && !target) {
  // A user's install: keep build/<config>/*.node, drop the object files and CMake's state.
  const build = join(root, 'build');
  for (const entry of readdirSync(build)) {
    if (entry !== config) rmSync(join(build, entry), { recursive: true, force: true });
  }
  for (const entry of readdirSync(join(build, config))) {
    if (!entry.endsWith('.node')) rmSync(join(build, config, entry), { recursive: true, force: true });
  }
}
