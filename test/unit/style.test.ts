// The tree passes `npm run lint`: Biome formats and lints the TypeScript/JavaScript (biome.jsonc), and
// scripts/check-format.mjs checks native/ against clang-format (.clang-format) and every line against the
// 120-column limit. A failure lists the offending files and diagnostics; `npm run format` fixes the
// formatting, the rest is fixed by hand.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { describe, expect, test } from 'vitest';

import { repoRoot } from '../fixtures/paths.js';

const run = (script: string, args: string[]) => {
  const result = spawnSync(process.execPath, [join(repoRoot, script), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
};

describe('code style (npm run lint)', () => {
  test('Biome: the TypeScript and JavaScript are formatted and lint-clean', () => {
    const { status, output } = run('node_modules/@biomejs/biome/bin/biome', [
      'ci',
      '--error-on-warnings',
      '--colors=off',
    ]);
    expect(status, `biome ci failed (npm run format fixes the formatting):\n${output}`).toBe(0);
  }, 120_000);

  test('native/ is clang-formatted and no line is over 120 columns', () => {
    const { status, output } = run('scripts/check-format.mjs', []);
    expect(status, `scripts/check-format.mjs failed:\n${output}`).toBe(0);
  }, 120_000);
});
