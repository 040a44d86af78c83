// Every public export (the package's three entry points) carries a JSDoc comment, so editors show
// what it is: read from the sources with the TypeScript compiler, aliases followed to their
// declarations.
import { join } from 'node:path';

import ts from 'typescript';
import { expect, test } from 'vitest';

import { repoRoot } from '../fixtures/paths.js';

const entries = ['lib/index.ts', 'lib/native.ts', 'lib/gguf/index.ts'].map((entry) => join(repoRoot, entry));

test('every export of llama-napi, llama-napi/native and llama-napi/gguf is documented', () => {
  const program = ts.createProgram(entries, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const undocumented: string[] = [];
  let count = 0;
  for (const entry of entries) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!);
    expect(module, entry).toBeDefined();
    for (const exported of checker.getExportsOfModule(module!)) {
      count++;
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() === '') {
        undocumented.push(`${entry.slice(repoRoot.length + 1)}: ${exported.getName()}`);
      }
    }
  }
  expect(count).toBeGreaterThan(100);
  expect(undocumented).toEqual([]);
}, 60_000);
