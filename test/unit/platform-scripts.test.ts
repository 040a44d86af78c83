// scripts/prebuild.mjs and scripts/test-platforms.mjs refuse a platform they cannot make or run
// before they build or install anything, and name the ones they can; scripts/check-prebuilds.mjs
// (npm's prepublishOnly) refuses a package without every platform's binary.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

  test('check-prebuilds.mjs names what each platform folder lacks, and passes once nothing is missing', () => {
    const root = mkdtempSync(join(tmpdir(), 'llama-napi-prebuilds-'));
    try {
      // Nothing there: every platform's list, the addon and its baseline CPU variant among them.
      const empty = run('check-prebuilds.mjs', ['--root', root]);
      expect(empty.status).toBe(1);
      const lacking = Object.fromEntries(
        [...empty.stderr.matchAll(/prebuilds\/([a-z0-9-]+)\/: (.+)/g)].map((m) => [m[1]!, m[2]!.split(', ')]),
      );
      expect(Object.keys(lacking)).toEqual(['linux-x64', 'linux-arm64', 'win32-x64']);
      expect(lacking['linux-x64']).toEqual(expect.arrayContaining(['llama-napi.glibc.node', 'libggml-cpu-x64.so']));
      expect(lacking['linux-arm64']).toEqual(
        expect.arrayContaining(['llama-napi.glibc.node', 'libggml-cpu-armv8.0_1.so']),
      );
      expect(lacking['win32-x64']).toEqual(expect.arrayContaining(['llama-napi.node', 'ggml-cpu-x64.dll']));
      expect(empty.stderr).toContain('npm run prebuild:native -- --platform all');

      for (const [platform, files] of Object.entries(lacking)) {
        mkdirSync(join(root, 'prebuilds', platform), { recursive: true });
        for (const file of files) writeFileSync(join(root, 'prebuilds', platform, file), '');
      }
      const complete = run('check-prebuilds.mjs', ['--root', root]);
      expect(complete.status, complete.stderr).toBe(0);
      expect(complete.stderr).toContain('prebuilt binaries for linux-x64, linux-arm64, win32-x64');

      rmSync(join(root, 'prebuilds', 'win32-x64', 'ggml-cpu-x64.dll'));
      const partial = run('check-prebuilds.mjs', ['--root', root]);
      expect(partial.status).toBe(1);
      expect(partial.stderr).toContain('prebuilds/win32-x64/: ggml-cpu-x64.dll\n');
      expect(partial.stderr).not.toContain('prebuilds/linux-x64/');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
