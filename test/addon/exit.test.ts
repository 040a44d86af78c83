// Leaving with native work in flight — process.exit() during generation, decode or load, and a
// worker thread terminated mid-generation — ends cleanly: exit code 0, no signal, no hang
// (Node-API cleanup hooks dispose contexts, abort loads and wait for workers).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { describe, expect, test } from 'vitest';

import { testModelPath } from '../fixtures/models.js';
import { repoRoot } from '../fixtures/paths.js';

const script = join(repoRoot, 'test', 'fixtures', 'scripts', 'exit-during-work.mjs');

function run(mode: string, model = testModelPath('spmF32')) {
  const result = spawnSync(process.execPath, [script, mode, model], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, LLAMA_NAPI_LOG_LEVEL: 'error' },
  });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

describe('leaving with work in flight', () => {
  test.each(['exit-during-generation', 'exit-during-decode', 'exit-during-load'])('%s exits cleanly', (mode) => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = run(mode);
      expect(result.signal, result.stderr).toBeNull();
      expect(result.code, result.stderr).toBe(0);
    }
  });

  test('terminating a worker thread mid-generation leaves the process healthy', () => {
    const result = run('terminate-worker');
    expect(result.signal, result.stderr).toBeNull();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('after terminate: 3 tokens');
    const idle = Number(/idle cpu after terminate: (\d+) ms/.exec(result.stdout)?.[1]);
    expect(idle).toBeLessThan(150);
  });
});
