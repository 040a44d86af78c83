#!/usr/bin/env node
// Checks that a GPU variant of the addon compiles, links and loads — on a machine without a GPU
// too (CI never has one): builds it into build-variants/<gpu>, lists what it links against, then
// loads it in a child Node process and generates on the CPU (a GPU build must still run where no
// GPU or driver is present). Slow: CUDA's kernels take a while on few cores.
//
// Usage: node scripts/check-gpu-build.mjs cuda|vulkan [--model path.gguf]
//   LLAMA_NAPI_CUDA_ARCHS, LLAMA_NAPI_CUBLAS_DIR: see scripts/gpu-options.mjs (architectures
//   default to 90, the H100, here: a machine without a GPU has nothing to detect)
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cmakeJsBuild } from './cmake-js.mjs';
import { gpuBuildOptions } from './gpu-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const gpu = process.argv[2];
if (gpu !== 'cuda' && gpu !== 'vulkan') {
  console.error('usage: node scripts/check-gpu-build.mjs cuda|vulkan [--model path.gguf]');
  process.exit(2);
}
const modelIndex = process.argv.indexOf('--model');
const model = modelIndex > 0 ? process.argv[modelIndex + 1] : join(root, 'test', '.models', 'spmF32.gguf');
const out = join(root, 'build-variants', gpu);
const addonPath = join(out, 'Release', 'llama_napi.node');

const { args: gpuArgs, env } = gpuBuildOptions(gpu, process.env, '90');

const started = Date.now();
cmakeJsBuild(out, { defines: { LLAMA_NAPI_GPU: gpu }, args: gpuArgs, env });
const seconds = ((Date.now() - started) / 1000).toFixed(0);
console.log(
  `\n[check-gpu-build] ${gpu} build: ${addonPath} ` +
    `(${(statSync(addonPath).size / 1048576).toFixed(1)} MiB) in ${seconds} s`,
);
console.log('[check-gpu-build] links against:');
const ldd = spawnSync('ldd', [addonPath], { encoding: 'utf8', env });
for (const line of ldd.stdout.split('\n'))
  if (/cuda|cublas|vulkan|not found/.test(line)) console.log(`  ${line.trim()}`);
if (/not found/.test(ldd.stdout)) {
  console.error('[check-gpu-build] unresolved libraries');
  process.exit(1);
}

if (!existsSync(model)) {
  console.log(
    `[check-gpu-build] no model at ${model}: skipping the load check (run npm test once to write the test models)`,
  );
  process.exit(0);
}
const script = `
const { LlamaModel, buildInfo, listDevices, supportsGpuOffload } = await import(
  ${JSON.stringify(join(root, 'dist', 'index.js'))}
);
const info = await buildInfo();
const devices = await listDevices();
const model = await LlamaModel.load(${JSON.stringify(model)}, { contextSize: 128, gpuLayers: 'all' });
const result = await model.generate('Hello', { temperature: 0, maxTokens: 8 });
await model.dispose();
console.log(JSON.stringify({
  gpu: info.gpu,
  offload: await supportsGpuOffload(),
  devices: devices.map((d) => d.type + ':' + d.name),
  tokens: result.tokens,
}));
`;
const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
  encoding: 'utf8',
  env: { ...env, LLAMA_NAPI_ADDON: addonPath, LLAMA_NAPI_LOG_LEVEL: 'warn' },
});
console.log(`[check-gpu-build] load and generate with the ${gpu} build: exit ${run.status}`);
console.log(run.stdout.trim());
if (run.stderr.trim())
  console.log(
    run.stderr
      .trim()
      .split('\n')
      .map((line) => `  stderr: ${line}`)
      .join('\n'),
  );
process.exit(run.status ?? 1);
