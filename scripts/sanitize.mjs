#!/usr/bin/env node
// Runs the test suite against an AddressSanitizer + UndefinedBehaviorSanitizer build of the addon
// and llama.cpp (built once into build-variants/sanitize, ~3 minutes). Node itself is not
// instrumented: the sanitizer runtimes are preloaded, leak checking is off (Node's own allocations
// would drown it), and any report fails the run.
//
// Usage: npm run sanitize [-- <vitest filters…>]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cmakeJsBuild } from './cmake-js.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build-variants', 'sanitize');
const addon = join(out, 'Release', 'llama_napi.node');

// Built once (~10 minutes on 2 cores), then brought up to date incrementally on every run.
console.error(
  existsSync(addon) ? '[sanitize] updating the sanitizer build…' : '[sanitize] building the sanitizer variant (once)…',
);
cmakeJsBuild(out, { defines: { LLAMA_NAPI_SANITIZE: 'ON' }, quiet: true });

const runtime = (name) => execFileSync('gcc', [`-print-file-name=${name}`], { encoding: 'utf8' }).trim();
const env = {
  ...process.env,
  LLAMA_NAPI_ADDON: addon,
  LD_PRELOAD: [runtime('libasan.so'), runtime('libubsan.so')].join(':'),
  ASAN_OPTIONS: 'detect_leaks=0:halt_on_error=1:abort_on_error=1:allocator_may_return_null=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
};
const filters = process.argv.slice(2);
const run = spawnSync(
  process.execPath,
  [
    join(root, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    ...(filters.length > 0 ? filters : ['test/addon', 'test/cli', 'test/provider', 'test/e2e']),
  ],
  {
    cwd: root,
    env,
    stdio: 'inherit',
  },
);
process.exit(run.status ?? 1);
