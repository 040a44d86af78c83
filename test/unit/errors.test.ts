// The error codes: the addon's list (native/core/Errors.h) is NATIVE_ERROR_CODES in lib/binding.ts, and
// LLAMA_ERROR_CODES holds them and the codes only TypeScript raises.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, test } from 'vitest';

import { AiProviderError, LLAMA_ERROR_CODES, LlamaError } from '../../lib/index.js';
import { NATIVE_ERROR_CODES } from '../../lib/binding.js';
import { fromNative } from '../../lib/errors.js';
import { toProviderError } from '../../lib/provider/errors.js';
import { repoRoot } from '../fixtures/paths.js';

describe('LlamaError', () => {
  test('native/core/Errors.h lists exactly NATIVE_ERROR_CODES, in order; LLAMA_ERROR_CODES holds them', () => {
    const header = readFileSync(join(repoRoot, 'native', 'core', 'Errors.h'), 'utf8');
    const codes = [...header.matchAll(/X\(\w+, "([A-Z_]+)"\)/g)].map((match) => match[1]);
    expect(codes).toEqual([...NATIVE_ERROR_CODES]);
    expect(LLAMA_ERROR_CODES.slice(0, codes.length)).toEqual(codes);
    expect(new Set(LLAMA_ERROR_CODES).size).toBe(LLAMA_ERROR_CODES.length);
  });

  test("the job-application codes are the provider's, not the library's", () => {
    for (const code of ['MODEL_NOT_CONFIGURED', 'INVALID_INPUT', 'INVALID_OUTPUT']) {
      expect(LLAMA_ERROR_CODES).not.toContain(code);
    }
    const error = new AiProviderError('INVALID_INPUT', 'no posting');
    expect(error).toBeInstanceOf(LlamaError);
    expect(error).toMatchObject({ name: 'AiProviderError', code: 'INVALID_INPUT' });
  });

  test("a model that cannot fit is the provider's MODEL_LOAD_FAILED, with the LlamaError as its cause", () => {
    const insufficient = new LlamaError('INSUFFICIENT_MEMORY', 'the model does not fit in device memory');
    const mapped = toProviderError(insufficient);
    expect(mapped).toBeInstanceOf(AiProviderError);
    expect(mapped).toMatchObject({ code: 'MODEL_LOAD_FAILED', message: insufficient.message, cause: insufficient });
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
