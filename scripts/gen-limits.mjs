#!/usr/bin/env node
// Writes native/core/OptionLimits.h from the option-range table in lib/limits.ts, so the addon's
// checks and TypeScript's use the same limits. `--check` exits 1 when the header is not current.
//
// Usage: node scripts/gen-limits.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const headerPath = join(root, 'native', 'core', 'OptionLimits.h');

/** A C++ literal for a limit: integers exactly, others in the shortest form that reads back. */
function literal(value) {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

/** The header's text for `limits` (the OPTION_LIMITS table). */
export function renderHeader(limits) {
  const constant = (name) => `k${name[0].toUpperCase()}${name.slice(1)}`;
  const rows = Object.entries(limits).map(
    ([name, { integer, min, max }]) =>
      `inline constexpr OptionLimit ${constant(name)}{ "${name}", ${integer}, ${literal(min)}, ${literal(max)} };`,
  );
  return [
    '// The ranges of numeric options. Generated from lib/limits.ts by `npm run gen:limits`: do not edit.',
    '#pragma once',
    '',
    'namespace llama_napi {',
    '',
    '/** The range of one option: its name (the JavaScript key), whole numbers only or not, min and max. */',
    'struct OptionLimit {',
    '    const char * name;',
    '    bool integer;',
    '    double min;',
    '    double max;',
    '};',
    '',
    'namespace limits {',
    '',
    ...rows,
    '',
    '}  // namespace limits',
    '',
    '}  // namespace llama_napi',
    '',
  ].join('\n');
}

/** OPTION_LIMITS read from lib/limits.ts (transpiled in memory: no build needed). */
export async function loadLimits() {
  const ts = (await import('typescript')).default;
  const source = readFileSync(join(root, 'lib', 'limits.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext } });
  const module = await import(`data:text/javascript;base64,${Buffer.from(outputText).toString('base64')}`);
  return module.OPTION_LIMITS;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = renderHeader(await loadLimits());
  if (process.argv.includes('--check')) {
    const current = readFileSync(headerPath, 'utf8');
    if (current !== text) {
      console.error(`${headerPath} is not current: run npm run gen:limits`);
      process.exit(1);
    }
  } else {
    writeFileSync(headerPath, text);
    console.error(`wrote ${headerPath}`);
  }
}
