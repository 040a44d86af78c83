#!/usr/bin/env node
// Builds the CUDA build that the GPU machine would otherwise compile itself (~5 of its minutes, out
// of a device budget of 15), here, and packs it into .dev/device/cuda-kit.tar.xz for
// scripts/device/gpu.sh:
// - the addon in the prebuilt layout (LLAMA_NAPI_CPU_VARIANTS): llama and ggml as shared libraries
//   beside it, ggml's CUDA backend and CPU variants as modules that ggml loads from that folder;
// - llama.cpp's llama-simple, llama-bench and llama-quantize from the same build, linked against the
//   same libraries, so the kernels travel once (one static copy per binary would not fit the
//   device's 64 MiB);
// - kit.json: the fingerprint of the build inputs (scripts/device/fingerprint.mjs), the CUDA
//   architectures, the toolkit and what the addon links against.
// CUDA architectures: LLAMA_NAPI_CUDA_ARCHS, default 90-real (H100/H200 machine code, no PTX: the
// PTX would double the kernels' size). cuBLAS: LLAMA_NAPI_CUBLAS_DIR when the toolkit has none
// (scripts/gpu-options.mjs). Without a driver here the build has GGML_CUDA_NO_VMM.
//
// Slow on a small machine (measured on 2 cores: see docs/development.md, "Testing on a CUDA machine"); the
// build directory build-variants/cuda-kit is reused, so a change to native/ relinks in seconds.
//
// Usage: node scripts/device/kit.mjs   (always builds first, so the fingerprint is of what was built)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cmakeJsBuild } from '../cmake-js.mjs';
import { gpuBuildOptions } from '../gpu-options.mjs';
import { fingerprint } from './fingerprint.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const build = join(root, 'build-variants', 'cuda-kit');
const release = join(build, 'Release');
const out = join(root, '.dev', 'device');
const archs = process.env.LLAMA_NAPI_CUDA_ARCHS || '90-real';
const tools = ['llama-simple', 'llama-bench', 'llama-quantize'];
const log = (message) => console.error(`[device kit] ${message}`);
const mib = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;

const { args: gpuArgs, env } = gpuBuildOptions('cuda', { ...process.env, LLAMA_NAPI_CUDA_ARCHS: archs });
const started = Date.now();
cmakeJsBuild(build, { defines: { LLAMA_NAPI_CPU_VARIANTS: 'ON', LLAMA_NAPI_GPU: 'cuda' }, args: gpuArgs, env });
execFileSync('cmake', ['--build', build, '--config', 'Release', '--target', ...tools, '--parallel'], {
  stdio: 'inherit',
  env,
});
log(`built in ${((Date.now() - started) / 1000).toFixed(0)} s`);

// In the prebuilt layout everything lands beside the addon (CMakeLists.txt): the tools, the
// libraries they and the addon find through $ORIGIN, and ggml's modules.
const files = readdirSync(release)
  .filter((file) => file === 'llama_napi.node' || file.endsWith('.so') || tools.includes(file))
  .sort();
const needed = ['llama_napi.node', 'libggml-cuda.so', ...tools].filter((file) => !files.includes(file));
if (needed.length > 0) throw new Error(`${release} lacks ${needed.join(', ')}`);

const ldd = (file) =>
  (spawnSync('ldd', [join(release, file)], { encoding: 'utf8', env }).stdout ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /cuda|cublas|not found/.test(line));
const nvcc = spawnSync('nvcc', ['--version'], {
  encoding: 'utf8',
  env: { ...env, PATH: `/usr/local/cuda/bin:${env.PATH}` },
});
const manifest = {
  fingerprint: fingerprint(archs),
  archs,
  cuda: /release ([\d.]+)/.exec(nvcc.stdout ?? '')?.[1] ?? 'unknown',
  vmm: !gpuArgs.includes('--CDGGML_CUDA_NO_VMM=ON'),
  built: new Date().toISOString(),
  links: ldd('libggml-cuda.so'),
  files: Object.fromEntries(files.map((file) => [file, statSync(join(release, file)).size])),
};
writeFileSync(join(release, 'kit.json'), `${JSON.stringify(manifest, null, 2)}\n`);

mkdirSync(out, { recursive: true });
const kit = join(out, 'cuda-kit.tar.xz');
rmSync(kit, { force: true });
execFileSync('tar', ['-cJf', kit, '-C', release, 'kit.json', ...files], {
  stdio: 'inherit',
  env: { ...process.env, XZ_OPT: '-T2 -9' },
});
for (const file of files) log(`${file}: ${mib(manifest.files[file])}`);
log(
  `${kit}: ${mib(statSync(kit).size)} (fingerprint ${manifest.fingerprint.slice(0, 12)}, ` +
    `CUDA ${manifest.cuda}, archs ${archs}, VMM ${manifest.vmm ? 'on' : 'off'}) ` +
    `in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
