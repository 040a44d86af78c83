// extractJson: the first balanced JSON value of the expected shape, wherever it sits in text.
import { describe, expect, test } from 'vitest';
import { z } from 'zod';

import { AiProviderError, extractJson, JobPostingSchema, LlamaError } from '../../lib/index.js';

const Point = z.object({ x: z.number(), y: z.number() });

describe('extractJson', () => {
  test('finds JSON in prose', () => {
    expect(extractJson('Sure! Here is the point: {"x": 1, "y": 2}. Anything else?', Point)).toEqual({ x: 1, y: 2 });
  });

  test('prefers a fenced block, with or without a language', () => {
    expect(extractJson('Like {"x": 9} this:\n```json\n{"x": 3, "y": 4}\n```\n', Point)).toEqual({ x: 3, y: 4 });
    expect(extractJson('```\n[{"x": 1, "y": 1}]\n```', z.array(Point))).toEqual([{ x: 1, y: 1 }]);
  });

  test('braces and quotes inside strings do not break the balance', () => {
    const text =
      'Result: {"title": "Engineer {Node} \\"senior\\" [remote]", "summary": "}{", ' +
      '"responsibilities": [], "requirements": [], "niceToHaves": [], "skills": ["C++"]} done';
    expect(extractJson(text, JobPostingSchema)).toMatchObject({
      title: 'Engineer {Node} "senior" [remote]',
      summary: '}{',
      skills: ['C++'],
    });
  });

  test('skips JSON of another shape and takes the first that fits', () => {
    expect(extractJson('{"a": 1} then {"x": 5, "y": 6} then {"x": 7, "y": 8}', Point)).toEqual({ x: 5, y: 6 });
  });

  test('nested objects are taken whole', () => {
    const Outer = z.object({ p: Point, tags: z.array(z.string()) });
    expect(extractJson('noise {"p": {"x": 1, "y": {"z": 0}}} {"p": {"x": 1, "y": 2}, "tags": ["a}"]}', Outer)).toEqual({
      p: { x: 1, y: 2 },
      tags: ['a}'],
    });
  });

  test('no JSON, broken JSON, or JSON of the wrong shape is INVALID_OUTPUT saying which', () => {
    const noJson = () => extractJson('I cannot help with that.', Point);
    expect(noJson).toThrow(AiProviderError);
    expect(noJson).toThrow(LlamaError);
    expect(noJson).toThrow(
      expect.objectContaining({ code: 'INVALID_OUTPUT', message: 'the text contains no JSON object or array' }),
    );
    expect(() => extractJson('{"x": 1, "y": ', Point)).toThrow(/no JSON object or array/);
    expect(() => extractJson('{"x": "one", "y": 2}', Point)).toThrow(/does not match the expected shape: x: /);
  });
});
