// scripts/prebuild.mjs and scripts/test-platforms.mjs refuse a platform they cannot make or run
// before they build or install anything, and name the ones they can.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { describe, expect, test } from 'vitest';

import { repoRoot } from '../fixtures/paths.js';

const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, [join(repoRoot, 'scripts', script), ...args], { cwd: repoRoot, encoding: 'utf8' });

describe('the platform scripts', () => {
  test('prebuild.mjs --platform takes linux-x64, linux-arm64, win32-x64 or all, nothing else', () => {
    const out = run('prebuild.mjs', ['--platform', 'linux-x64,darwin-arm64']);
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('unknown platform darwin-arm64: one of linux-x64, linux-arm64, win32-x64 or all');
  });

  test('test-platforms.mjs --platform takes the emulated platforms only', () => {
    const out = run('test-platforms.mjs', ['--platform', 'linux-x64']);
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('unknown platform linux-x64: one of linux-arm64, win32-x64');
  });
});
