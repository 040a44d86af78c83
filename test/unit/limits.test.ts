// One table of option ranges: native/core/OptionLimits.h is generated from lib/limits.ts, and what
// TypeScript accepts at each end of a range is what the table says.
import { readFileSync } from 'node:fs';

import { describe, expect, test } from 'vitest';

import { OPTION_LIMITS } from '../../lib/limits.js';
import { optionalLimited } from '../../lib/option-checks.js';
// @ts-expect-error: a plain ES module without type declarations
import { headerPath, renderHeader } from '../../scripts/gen-limits.mjs';

describe('option limits', () => {
  test('native/core/OptionLimits.h is generated from lib/limits.ts and current (npm run gen:limits)', () => {
    expect(readFileSync(headerPath as string, 'utf8')).toBe(
      (renderHeader as (limits: unknown) => string)(OPTION_LIMITS),
    );
  });

  test.each(Object.entries(OPTION_LIMITS))(
    '%s: its bounds pass, one step beyond fails',
    (name, { integer, min, max }) => {
      const key = name as keyof typeof OPTION_LIMITS;
      expect(optionalLimited(key, min)).toBe(min);
      expect(optionalLimited(key, max)).toBe(max);
      expect(optionalLimited(key, undefined)).toBeUndefined();
      const step = integer ? 1 : Math.max(Math.abs(max), Math.abs(min), 1) * 1e-6;
      expect(() => optionalLimited(key, min - step)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
      expect(() => optionalLimited(key, max + step)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
      if (integer) expect(() => optionalLimited(key, min + 0.5)).toThrow(/integer/);
    },
  );
});
