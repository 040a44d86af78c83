// vendor/materialize.mjs: the pin is checked, LLAMA_CPP_DIR is honoured, our patches are applied
// and recorded, and no llama.cpp file is tracked by git.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, test } from 'vitest';

import { llamaCppDir, repoRoot } from '../fixtures/paths.js';

const script = join(repoRoot, 'vendor', 'materialize.mjs');
const run = (env: Record<string, string>) =>
  spawnSync(process.execPath, [script, '--print-dir'], { env: { ...process.env, ...env }, encoding: 'utf8' });

describe('vendor/materialize.mjs', () => {
  test('the pin names the source tarball, its integrity, the bundle hash and the commit', () => {
    const pin = JSON.parse(readFileSync(join(repoRoot, 'vendor', 'llama.cpp.pin.json'), 'utf8'));
    expect(pin.source).toMatchObject({
      package: 'node-llama-cpp',
      version: '3.22.1',
      bundle: 'package/llama/gitRelease.bundle',
    });
    expect(pin.source.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    expect(pin.source.bundleSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(pin.llamaCpp.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  test('LLAMA_CPP_DIR is used as it is', () => {
    const result = run({ LLAMA_CPP_DIR: llamaCppDir });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(llamaCppDir);
  });

  test('an LLAMA_CPP_DIR that is not llama.cpp is refused', () => {
    const result = run({ LLAMA_CPP_DIR: tmpdir() });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/is not a llama\.cpp source tree/);
  });

  test('a source tarball with the wrong integrity is refused before anything is unpacked', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'llama-napi-vendor-'));
    const fake = join(scratch, 'node-llama-cpp-3.22.1.tgz');
    writeFileSync(fake, 'not the tarball');
    // Point the script at a copy of vendor/ with no llama.cpp, so it must unpack.
    const vendorCopy = join(scratch, 'vendor');
    execFileSync('mkdir', ['-p', vendorCopy]);
    writeFileSync(join(vendorCopy, 'materialize.mjs'), readFileSync(script));
    writeFileSync(join(vendorCopy, 'llama.cpp.pin.json'), readFileSync(join(repoRoot, 'vendor', 'llama.cpp.pin.json')));
    const result = spawnSync(process.execPath, [join(vendorCopy, 'materialize.mjs')], {
      env: { ...process.env, LLAMA_CPP_DIR: '', LLAMA_NAPI_SOURCE_TARBALL: fake },
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/integrity mismatch/);
  });

  test('git tracks no llama.cpp source', () => {
    const tracked = execFileSync('git', ['ls-files', 'vendor'], { cwd: repoRoot, encoding: 'utf8' }).trim().split('\n');
    // The pin, the script, and our patches the pin lists: nothing of llama.cpp itself.
    const pin = JSON.parse(readFileSync(join(repoRoot, 'vendor', 'llama.cpp.pin.json'), 'utf8')) as {
      patches: Array<{ file: string }>;
    };
    const patches = pin.patches.map((patch) => `vendor/${patch.file}`);
    expect(patches.every((file) => file.startsWith('vendor/patches/') && file.endsWith('.patch'))).toBe(true);
    expect(tracked.sort()).toEqual(['vendor/llama.cpp.pin.json', 'vendor/materialize.mjs', ...patches].sort());
  });

  test('each patch of the pin matches its sha256, is in the tree and in its stamp', () => {
    const pin = JSON.parse(readFileSync(join(repoRoot, 'vendor', 'llama.cpp.pin.json'), 'utf8'));
    expect(pin.patches.length).toBeGreaterThan(0);
    const stamp = readFileSync(join(llamaCppDir, '.llama-napi-pin'), 'utf8').trim().split('\n');
    expect(stamp[0]).toBe(pin.llamaCpp.commit);
    for (const patch of pin.patches) {
      const file = join(repoRoot, 'vendor', patch.file);
      expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(patch.sha256);
      expect(patch.why.length).toBeGreaterThan(20);
      expect(stamp).toContain(`patch ${patch.file} ${patch.sha256}`);
      // Applied: it reverses cleanly.
      const reverse = spawnSync('git', ['apply', '--check', '--reverse', file], { cwd: llamaCppDir, encoding: 'utf8' });
      expect(reverse.stderr).toBe('');
      expect(reverse.status).toBe(0);
    }
  });
});
