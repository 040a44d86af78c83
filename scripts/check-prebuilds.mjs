#!/usr/bin/env node
// npm's prepublishOnly: the package goes out only with every platform's prebuilt binary, so no user
// of linux-arm64 or win32-x64 is left compiling from source because a release missed a build.
// `node scripts/check-prebuilds.mjs [--root DIR]` checks DIR/prebuilds/ (default: this checkout)
// for each platform's addon, its shared libraries, the RPC backend and the baseline CPU variant
// (the one every CPU of the architecture can run); exits 1 naming what is missing.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { root: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), '..') } },
});

const linux = (baseline) => [
  'llama-napi.glibc.node',
  'libllama-napi-llama.so',
  'libllama-napi-ggml.so',
  'libllama-napi-ggml-base.so',
  'libggml-rpc.so',
  `libggml-cpu-${baseline}.so`,
];
const expected = {
  'linux-x64': linux('x64'),
  'linux-arm64': linux('armv8.0_1'),
  'win32-x64': [
    'llama-napi.node',
    'libllama-napi-llama.dll',
    'llama-napi-ggml.dll',
    'llama-napi-ggml-base.dll',
    'ggml-rpc.dll',
    'ggml-cpu-x64.dll',
  ],
};

const missing = [];
for (const [platform, files] of Object.entries(expected)) {
  const folder = join(values.root, 'prebuilds', platform);
  const absent = files.filter((file) => !existsSync(join(folder, file)));
  if (absent.length > 0) missing.push(`prebuilds/${platform}/: ${absent.join(', ')}`);
}
if (missing.length > 0) {
  console.error(`[llama-napi] the package would lack prebuilt binaries:\n  ${missing.join('\n  ')}`);
  console.error('[llama-napi] build them first: npm run prebuild:native -- --platform all');
  process.exit(1);
}
console.error(`[llama-napi] prebuilt binaries for ${Object.keys(expected).join(', ')}`);
