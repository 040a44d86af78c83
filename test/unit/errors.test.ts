// The error-code list is one list: lib/errors.ts and native/errors.h must name the same codes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, test } from 'vitest';

import { LLAMA_ERROR_CODES, LlamaError } from '../../lib/index.js';
import { fromNative } from '../../lib/errors.js';
import { repoRoot } from '../fixtures/paths.js';

describe('LlamaError', () => {
  test('native/errors.h lists exactly the codes of LLAMA_ERROR_CODES, in order', () => {
    const header = readFileSync(join(repoRoot, 'native', 'errors.h'), 'utf8');
    const codes = [...header.matchAll(/X\(\w+, "([A-Z_]+)"\)/g)].map((match) => match[1]);
    expect(codes).toEqual([...LLAMA_ERROR_CODES]);
  });

  test('carries a code, a name and a cause', () => {
    const cause = new Error('inner');
    const error = new LlamaError('DISPOSED', 'gone', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'LlamaError', code: 'DISPOSED', message: 'gone', cause });
  });

  test('fromNative re-creates coded native errors and passes others through', () => {
    const native = Object.assign(new Error('busy'), { code: 'BUSY' });
    const converted = fromNative(native);
    expect(converted).toBeInstanceOf(LlamaError);
    expect(converted).toMatchObject({ code: 'BUSY', message: 'busy', cause: native });
    const user = new Error('mine');
    expect(fromNative(user)).toBe(user);
    const odd = Object.assign(new Error('x'), { code: 'ENOENT' });
    expect(fromNative(odd)).toBe(odd);
  });
});
