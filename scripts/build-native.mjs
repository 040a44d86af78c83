#!/usr/bin/env node
// Builds the addon (and llama.cpp with it) with cmake-js into build/, materializing llama.cpp first.
//
// Usage: node scripts/build-native.mjs [--target <cmake target>] [--debug]
//   LLAMA_CPP_DIR=/path     build against your own llama.cpp checkout
//   LLAMA_NAPI_PORTABLE=1   no -march=native (binaries that run on any CPU of the architecture)
// The build directory is reused: touching one native/ file rebuilds only the addon.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const args = process.argv.slice(2);
const targetIndex = args.indexOf('--target');
const target = targetIndex >= 0 ? args[targetIndex + 1] : undefined;
const debug = args.includes('--debug');

const llamaCppDir = execFileSync(process.execPath, [join(root, 'vendor', 'materialize.mjs'), '--print-dir'], {
  cwd: root,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
}).trim();

const truthy = (value) => value !== undefined && !['', '0', 'false', 'off', 'no'].includes(value.toLowerCase());
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const cmakeArgs = [
  cmakeJs,
  'build',
  '--directory', root,
  '--out', join(root, 'build'),
  '--config', debug ? 'Debug' : 'Release',
  `--CDLLAMA_CPP_DIR=${llamaCppDir}`,
  `--CDLLAMA_NAPI_PORTABLE=${truthy(process.env.LLAMA_NAPI_PORTABLE) ? 'ON' : 'OFF'}`,
];
if (target) cmakeArgs.push('--target', target);

const started = Date.now();
execFileSync(process.execPath, cmakeArgs, { cwd: root, stdio: 'inherit' });
console.error(`[llama-napi] native build${target ? ` (${target})` : ''} finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
