#!/usr/bin/env node
// Stands in for node-gyp under prebuildify (which has no cmake-js backend): ignores node-gyp's
// arguments, builds the portable variant with cmake-js into build-variants/prebuild, and puts the
// addon and its shared libraries where prebuildify looks (build/Release).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const out = join(root, 'build-variants', 'prebuild');

const llamaCppDir = execFileSync(process.execPath, [join(root, 'vendor', 'materialize.mjs'), '--print-dir'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
}).trim();
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
execFileSync(
  process.execPath,
  [cmakeJs, 'build', '--directory', root, '--out', out, '--config', 'Release', `--CDLLAMA_CPP_DIR=${llamaCppDir}`,
    '--CDLLAMA_NAPI_CPU_VARIANTS=ON', `--CDLLAMA_NAPI_GPU=${process.env.LLAMA_NAPI_GPU || 'off'}`],
  { stdio: 'inherit' },
);

const built = join(out, 'Release');
const release = join(root, 'build', 'Release');
mkdirSync(release, { recursive: true });
for (const file of readdirSync(built)) {
  if (file.endsWith('.node') || /\.so$/.test(file)) copyFileSync(join(built, file), join(release, file));
}
