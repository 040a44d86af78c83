// Global setup of the GPU suite (vitest.gpu.config.ts): the generated models it needs and a check
// that what scripts/device/gpu.sh builds is there — llama.cpp's llama-simple from the addon's own
// CUDA build directory (the oracle) and the benchmark's ~1B model (bench/gpu.mjs --prepare).
import { existsSync } from 'node:fs';

import { ensureTestModels } from '../fixtures/models.js';
import { gpuBigModel, llamaSimpleGpuPath } from './paths.js';

export default async function setup(): Promise<void> {
  for (const [what, path] of [
    ['llama-simple of the CUDA build (cmake --build build --target llama-simple)', llamaSimpleGpuPath],
    ['the ~1B Q4_K_M model (node bench/gpu.mjs --prepare)', gpuBigModel],
  ]) {
    if (!existsSync(path!)) throw new Error(`the GPU suite needs ${what} at ${path}: run scripts/device/gpu.sh`);
  }
  await ensureTestModels(['spmF32', 'spmF16']);
}
