// The style checks Biome does not make: native/ formatted by clang-format (.clang-format at the root,
// run through the @wasm-fmt/clang-format package, so no system clang-format is needed), and no line
// over 120 columns in lib/, test/, scripts/, bench/ and native/ (neither formatter breaks a long
// string or comment). `npm run lint` and test/unit/style.test.ts run it; `npm run format` runs it with
// --write, which formats native/ in place (long lines are left to fix by hand).
//
// Usage: node scripts/check-format.mjs [--write] [--root DIR]
//   exit 0: clean; exit 1: each offender on stderr, as `file:line: what`.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { format } from '@wasm-fmt/clang-format';

export const MAX_COLUMNS = 120;
const NATIVE_EXTENSIONS = new Set(['.h', '.hpp', '.cc', '.cpp']);
const SOURCE_EXTENSIONS = new Set([...NATIVE_EXTENSIONS, '.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);
const LINE_CHECKED_DIRS = ['lib', 'test', 'scripts', 'bench', 'native'];
// Dependencies, build outputs, and the generated test models and benchmark work (dot folders).
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'build', 'build-variants', 'prebuilds', 'vendor']);

/** Files with one of `extensions` under `dir`, recursively, sorted; `[]` when `dir` is absent. */
function listFiles(dir, extensions) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (error.code === 'ENOENT') return [];
    throw error;
  }
  const files = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && !SKIPPED_DIRS.has(entry.name)) files.push(...listFiles(path, extensions));
    } else if (entry.isFile() && extensions.has(extname(entry.name))) {
      files.push(path);
    }
  }
  return files;
}

/** How many lines of `before` are not in `after` (a rough size of the change, for the message). */
function changedLines(before, after) {
  const left = new Map();
  for (const line of after.split('\n')) left.set(line, (left.get(line) ?? 0) + 1);
  let changed = 0;
  for (const line of before.split('\n')) {
    const count = left.get(line) ?? 0;
    if (count === 0) changed++;
    else left.set(line, count - 1);
  }
  return changed;
}

/**
 * Runs the checks over the tree at `root`. With `write`, native files are formatted in place first.
 * Returns the problems (`file:line: what`, paths relative to `root` with `/`) and what was rewritten.
 */
export function checkFormat({ root, write = false }) {
  const problems = [];
  const rewritten = [];
  const show = (path) => relative(root, path).split(sep).join('/');
  const style = readFileSync(join(root, '.clang-format'), 'utf8');
  const contents = new Map(); // what --write wrote, for the line check

  for (const path of listFiles(join(root, 'native'), NATIVE_EXTENSIONS)) {
    const source = readFileSync(path, 'utf8');
    const formatted = format(source, path, style);
    if (formatted === source) continue;
    if (write) {
      writeFileSync(path, formatted);
      contents.set(path, formatted);
      rewritten.push(show(path));
      continue;
    }
    const before = source.split('\n');
    const after = formatted.split('\n');
    let first = 0;
    while (first < before.length && before[first] === after[first]) first++;
    problems.push(
      `${show(path)}:${first + 1}: not clang-formatted (${changedLines(source, formatted)} lines would change)`,
    );
  }

  for (const dir of LINE_CHECKED_DIRS) {
    for (const path of listFiles(join(root, dir), SOURCE_EXTENSIONS)) {
      const text = contents.get(path) ?? readFileSync(path, 'utf8');
      const lines = text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        // Columns are code points, so that a line of non-ASCII text counts as it shows.
        const columns = [...lines[i].replace(/\r$/, '')].length;
        if (columns > MAX_COLUMNS) {
          problems.push(`${show(path)}:${i + 1}: ${columns} columns (at most ${MAX_COLUMNS})`);
        }
      }
    }
  }
  return { problems, rewritten };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const write = args.includes('--write');
  const rootAt = args.indexOf('--root');
  const root = rootAt >= 0 ? resolve(args[rootAt + 1] ?? '.') : join(dirname(fileURLToPath(import.meta.url)), '..');
  const unknown = args.filter((arg, i) => arg !== '--write' && arg !== '--root' && args[i - 1] !== '--root');
  if (unknown.length > 0) {
    console.error(`check-format: unknown argument ${unknown[0]} (usage: check-format.mjs [--write] [--root DIR])`);
    process.exit(2);
  }
  const { problems, rewritten } = checkFormat({ root, write });
  for (const file of rewritten) console.log(`clang-format: wrote ${file}`);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) {
    const fix = write ? 'break the long lines by hand' : 'npm run format, then break any long lines left by hand';
    console.error(`check-format: ${problems.length} problem(s); ${fix}`);
    process.exit(1);
  }
  console.log(`check-format: native/ is clang-formatted and no line is over ${MAX_COLUMNS} columns`);
}
