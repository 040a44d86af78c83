#!/usr/bin/env node
// Stands in for node-gyp under prebuildify (which has no cmake-js backend): ignores node-gyp's
// arguments, builds the portable variant with cmake-js into build-variants/prebuild (or
// build-variants/prebuild-<platform> when cross-compiling, with scripts/cross/<platform>.cmake),
// and puts the addon and its shared libraries where prebuildify looks (build/Release).
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cmakeJsBuild } from './cmake-js.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const host = `${process.platform}-${process.arch}`;
const platform = process.env.LLAMA_NAPI_PREBUILD_PLATFORM || host;
const cross = platform !== host;
const out = join(root, 'build-variants', cross ? `prebuild-${platform}` : 'prebuild');

cmakeJsBuild(out, {
  defines: {
    LLAMA_NAPI_CPU_VARIANTS: 'ON',
    LLAMA_NAPI_GPU: process.env.LLAMA_NAPI_GPU || 'off',
    ...(cross ? { CMAKE_TOOLCHAIN_FILE: join(root, 'scripts', 'cross', `${platform}.cmake`) } : {}),
  },
});

const built = join(out, 'Release');
const release = join(root, 'build', 'Release');
mkdirSync(release, { recursive: true });
for (const file of readdirSync(built)) {
  if (/\.(node|so|dll)$/.test(file)) copyFileSync(join(built, file), join(release, file));
}
