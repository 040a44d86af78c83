// native/ is in layers whose includes point down only: addon.cpp → handles/ → workers/ → js/ →
// core/ → runtime/ (js/ is the Node-API glue the layers above it share). core/ and runtime/ hold no
// Node-API value, so they never include napi.h. See docs/development.md, "Source layout".
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { describe, expect, test } from 'vitest';

import { repoRoot } from '../fixtures/paths.js';

const native = join(repoRoot, 'native');

/** What each layer may include, besides itself and llama.cpp's headers. */
const ALLOWED: Record<string, string[]> = {
  runtime: [],
  core: ['runtime'],
  js: ['core', 'runtime'],
  workers: ['js', 'core', 'runtime'],
  handles: ['workers', 'js', 'core', 'runtime'],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

describe('native/ layers', () => {
  const files = sources(native).map((file) => relative(native, file));

  test('every file sits in a layer folder, but addon.cpp', () => {
    const outside = files.filter((file) => !file.includes('/') && file !== 'addon.cpp');
    expect(outside).toEqual([]);
    expect(new Set(files.filter((file) => file.includes('/')).map((file) => file.split('/')[0]))).toEqual(
      new Set(Object.keys(ALLOWED)),
    );
  });

  test('includes point down only; core/ and runtime/ do not include napi.h', () => {
    const wrong: string[] = [];
    for (const file of files.filter((name) => name.includes('/'))) {
      const layer = file.split('/')[0] as string;
      const text = readFileSync(join(native, file), 'utf8');
      for (const [, header] of text.matchAll(/^#include ["<]([^">]+)[">]/gm)) {
        const target = header?.split('/')[0] ?? '';
        if (header === 'napi.h' && (layer === 'core' || layer === 'runtime')) wrong.push(`${file}: ${header}`);
        if (target in ALLOWED && target !== layer && !ALLOWED[layer]?.includes(target)) {
          wrong.push(`${file}: ${header}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
