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

  test('check-prebuilds.mjs passes three complete platform folders and names what one lacks', () => {
    const root = mkdtempSync(join(tmpdir(), 'llama-napi-prebuilds-'));
    try {
      const linux = (baseline: string) => [
        'llama-napi.glibc.node',
        'libllama-napi-llama.so',
        'libllama-napi-ggml.so',
        'libllama-napi-ggml-base.so',
        'libggml-rpc.so',
        `libggml-cpu-${baseline}.so`,
      ];
      const folders = {
        'linux-x64': linux('x64'),
        'linux-arm64': linux('armv8.0_1'),
        'win32-x64': [
          'llama-napi.node',
          'libllama-napi-llama.dll',
          'llama-napi-ggml.dll',
          'llama-napi-ggml-base.dll',
          'ggml-rpc.dll',
          'ggml-cpu-x64.dll',
        ],
      };
      for (const [platform, files] of Object.entries(folders)) {
        mkdirSync(join(root, 'prebuilds', platform), { recursive: true });
        for (const file of files) writeFileSync(join(root, 'prebuilds', platform, file), '');
      }
      const complete = run('check-prebuilds.mjs', ['--root', root]);
      expect(complete.status, complete.stderr).toBe(0);
      expect(complete.stderr).toContain('prebuilt binaries for linux-x64, linux-arm64, win32-x64');

      rmSync(join(root, 'prebuilds', 'win32-x64', 'ggml-cpu-x64.dll'));
      rmSync(join(root, 'prebuilds', 'linux-arm64'), { recursive: true });
      const partial = run('check-prebuilds.mjs', ['--root', root]);
      expect(partial.status).toBe(1);
      expect(partial.stderr).toContain('prebuilds/win32-x64/: ggml-cpu-x64.dll\n');
      expect(partial.stderr).toContain('prebuilds/linux-arm64/: llama-napi.glibc.node, libllama-napi-llama.so');
      expect(partial.stderr).not.toContain('prebuilds/linux-x64/');
      expect(partial.stderr).toContain('npm run prebuild:native -- --platform all');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
