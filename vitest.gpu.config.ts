// vitest for the GPU machine only (scripts/device/gpu.sh runs it against a CUDA build): the tests in
// test/gpu/, which `npm test` and CI never run. Forked processes, as for the CPU suite; one file at a
// time, since they share one GPU and measure its free memory.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    fileParallelism: false,
    include: ['test/gpu/**/*.test.ts'],
    globalSetup: ['test/gpu/setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    env: { LLAMA_NAPI_LOG_LEVEL: process.env.LLAMA_NAPI_LOG_LEVEL ?? 'error' },
  },
});
