// The device kit's fingerprint (scripts/device/fingerprint.mjs): gpu.sh uses the kit built here
// only when the fingerprint it recorded equals the one of the tree on the GPU machine, so it must
// follow every byte of the native build inputs and nothing else. Run as gpu.sh runs it (a child
// node), on a copy of those inputs in a temporary folder.
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, test } from 'vitest';

import { repoRoot } from '../fixtures/paths.js';

const copy = mkdtempSync(join(tmpdir(), 'llama-napi-fingerprint-'));
for (const path of [
  'CMakeLists.txt',
  'native',
  'vendor/llama.cpp.pin.json',
  'scripts/gpu-options.mjs',
  'scripts/device/fingerprint.mjs',
]) {
  cpSync(join(repoRoot, path), join(copy, path), { recursive: true });
}
afterAll(() => rmSync(copy, { recursive: true, force: true }));

const fingerprint = (root: string, archs: string) =>
  execFileSync(process.execPath, [join(root, 'scripts', 'device', 'fingerprint.mjs'), archs], {
    encoding: 'utf8',
  }).trim();

describe('device kit fingerprint', () => {
  test('is a SHA-256, the same for the same inputs, here and in a copy of them', () => {
    const here = fingerprint(repoRoot, '90-real');
    expect(here).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint(repoRoot, '90-real')).toBe(here);
    expect(fingerprint(copy, '90-real')).toBe(here);
  });

  test(
    'changes with the CUDA architectures, a byte of native/, CMakeLists.txt or the pin; ' + 'not with other files',
    () => {
      const base = fingerprint(copy, '90-real');
      expect(fingerprint(copy, '90')).not.toBe(base);

      writeFileSync(join(copy, 'README.md'), 'not a build input\n');
      expect(fingerprint(copy, '90-real')).toBe(base);

      const seen = new Set([base]);
      for (const file of [
        'native/addon.cpp',
        'CMakeLists.txt',
        'vendor/llama.cpp.pin.json',
        'scripts/gpu-options.mjs',
      ]) {
        appendFileSync(join(copy, file), ' ');
        const changed = fingerprint(copy, '90-real');
        expect(seen.has(changed), file).toBe(false);
        seen.add(changed);
      }
      writeFileSync(join(copy, 'native', 'new-file.h'), '// a new source file\n');
      expect(seen.has(fingerprint(copy, '90-real'))).toBe(false);
    },
  );
});
