// vitest: native tests run in forked processes (a worker thread exiting with native work in flight
// could take the whole run down), one global setup builds the oracle and the test models. The
// package test (npm pack + npm install, which compiles) runs after everything else, alone.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // llama.cpp's warnings about the odd test model would drown the report; errors still show.
    env: { LLAMA_NAPI_LOG_LEVEL: process.env.LLAMA_NAPI_LOG_LEVEL ?? 'error' },
    projects: [
      {
        extends: true,
        test: {
          name: 'library',
          include: ['test/**/*.test.ts'],
          // test/gpu/ runs on the GPU machine only (vitest.gpu.config.ts, scripts/device/gpu.sh).
          exclude: ['test/package/**', 'test/gpu/**'],
          // The public API's types (test/types/*.test-d.ts), checked by tsc as part of the run.
          typecheck: { enabled: true, include: ['test/types/**/*.test-d.ts'], tsconfig: 'test/tsconfig.json' },
        },
      },
      {
        extends: true,
        test: { name: 'package', include: ['test/package/**/*.test.ts'], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
