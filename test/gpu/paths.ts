// Where the GPU suite finds its oracle and models on the GPU machine.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { buildDir, repoRoot, storiesPath } from '../fixtures/paths.js';

/**
 * llama.cpp's llama-simple built with the addon's (CUDA) build: same backend, same flags. Beside the
 * addon in the prebuilt layout (the device kit, scripts/device/kit.mjs: shared libraries and ggml's
 * modules in build/Release), else where the static build of `gpu.sh build` puts it.
 */
export const llamaSimpleGpuPath =
  [join(buildDir, 'Release', 'llama-simple'), join(buildDir, 'tools', 'llama-simple', 'llama-simple')].find((path) =>
    existsSync(path),
  ) ?? join(buildDir, 'tools', 'llama-simple', 'llama-simple');

/** The benchmark's ~1B random llama, quantized to Q4_K_M by llama.cpp (bench/gpu.mjs --prepare). */
export const gpuBigModel = join(repoRoot, 'bench', '.work', 'gpu-1b-q4_k_m.gguf');

/** stories260K: ../shared/models here, or the copy scripts/device/pack.mjs sends with the project. */
export const gpuStoriesPath = [storiesPath, join(repoRoot, '.dev', 'device', 'stories260K.gguf')].find((path) =>
  existsSync(path),
);
