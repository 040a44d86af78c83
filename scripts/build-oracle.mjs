#!/usr/bin/env node
// Builds llama.cpp's own tools from the same source tree, standalone, into build/oracle: the oracles
// the tests compare against (llama-simple). They are built with OpenMP, not the addon's thread
// pools: llama-simple cannot set its thread count, and ggml without OpenMP or an attached pool
// spawns its 4 default threads per decode, which on a 2-core machine spin against each other
// (550 ms a token measured here). Threading does not change the arithmetic: outputs are identical.
//
// Usage: node scripts/build-oracle.mjs [target ...]   (default: llama-simple)
// Prints the folder holding the binaries. Reuses the build directory.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { llamaCppDir } from './cmake-js.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, 'build', 'oracle');
const targets = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['llama-simple'];
const sources = llamaCppDir(); // materialized first if it is not there

const quiet = { stdio: ['ignore', 'ignore', 'inherit'] };
// Configured again when the cache predates an option below (GGML_RPC, the latest).
const cache = join(buildDir, 'CMakeCache.txt');
if (!existsSync(cache) || !readFileSync(cache, 'utf8').includes('GGML_RPC:BOOL=ON')) {
  const generator = (() => {
    try {
      execFileSync('ninja', ['--version'], { stdio: 'ignore' });
      return ['-G', 'Ninja'];
    } catch {
      return [];
    }
  })();
  execFileSync(
    'cmake',
    [
      '-S',
      sources,
      '-B',
      buildDir,
      ...generator,
      '-DCMAKE_BUILD_TYPE=Release',
      '-DBUILD_SHARED_LIBS=OFF',
      '-DGGML_OPENMP=ON',
      `-DGGML_NATIVE=${process.env.LLAMA_NAPI_PORTABLE ? 'OFF' : 'ON'}`,
      // test-llama-archs writes a random-weight model of every architecture (tests/ targets are
      // built only when asked for).
      '-DLLAMA_BUILD_TESTS=ON',
      '-DLLAMA_BUILD_SERVER=OFF',
      '-DLLAMA_BUILD_APP=OFF',
      '-DLLAMA_OPENSSL=OFF',
      '-DLLAMA_CURL=OFF',
      // llama.cpp's RPC client (--rpc), the reference client of our RPC server.
      '-DGGML_RPC=ON',
    ],
    quiet,
  );
}
const started = Date.now();
execFileSync('cmake', ['--build', buildDir, '--target', ...targets, '--parallel'], quiet);
console.error(
  `[llama-napi] oracle build (${targets.join(', ')}) finished in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
process.stdout.write(`${join(buildDir, 'bin')}\n`);
