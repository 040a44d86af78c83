// What a grammar admits passes the validation after it: sampled runs at high temperature on two
// vocabularies (SentencePiece with byte tokens, byte-level BPE), strings at their length bounds,
// checked the way each validator counts — JSON Schema (code points), zod and JavaScript (UTF-16
// units) — and the output bytes valid UTF-8 (no run of invalid bytes that a grammar would count as
// one character).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';

import { LlamaModel, type JsonSchema } from '../../lib/index.js';
import { JobPostingSchema, toJsonSchema } from '../../lib/provider/schemas.js';
import { testModelPath } from '../fixtures/models.js';
import { pieceBytes } from '../fixtures/pieces.js';

const strict = new TextDecoder('utf-8', { fatal: true });

// Runs per vocabulary: the BPE one has 128,000 tokens, each step of a constrained run scans them all.
const vocabularies = [
  ['spmF32', 16],
  ['bpeF32', 6],
] as const;

describe.each(vocabularies)('grammar output on %s passes every validator', (name, count) => {
  const path = testModelPath(name);
  let model: LlamaModel;
  beforeAll(async () => {
    model = await LlamaModel.load(path, { contextSize: 256, threads: 2, sequences: 4 });
  });
  afterAll(() => model.dispose());

  test('bounded strings: sampled runs, every length within bounds by code points and by .length', async () => {
    const schema = {
      type: 'object',
      properties: { short: { type: 'string', minLength: 2, maxLength: 6 }, long: { type: 'string', maxLength: 40 } },
      required: ['short', 'long'],
      additionalProperties: false,
    } as const satisfies JsonSchema;
    const zodSchema = z.object({ short: z.string().min(2).max(6), long: z.string().max(40) }).strict();
    const runs = await Promise.all(
      Array.from({ length: count }, (_, seed) =>
        model.generate('{"short": "', {
          jsonSchema: schema,
          temperature: 2,
          topK: 0,
          topP: 1,
          minP: 0,
          seed,
          maxTokens: 200,
        }),
      ),
    );
    for (const run of runs) {
      // The bytes the model produced are valid UTF-8: the text is exactly what they decode to.
      const bytes = await pieceBytes(path, run.tokens, false);
      expect(strict.decode(bytes)).toBe(run.text);
      const json = run.json as { short: string; long: string };
      expect([...json.short].length).toBeGreaterThanOrEqual(2);
      expect(json.short.length).toBeLessThanOrEqual(6);
      expect(json.long.length).toBeLessThanOrEqual(40);
      expect(zodSchema.safeParse(json).success).toBe(true);
    }
    // The runs went beyond ASCII (multi-byte characters split across tokens included).
    expect(runs.some((run) => [...run.text].some((ch) => ch.codePointAt(0)! > 0x7f))).toBe(true);
  }, 120_000);

  test("the provider's job posting schema: sampled runs, each valid for zod", async () => {
    const schema = toJsonSchema(JobPostingSchema) as JsonSchema;
    const runs = await Promise.all(
      Array.from({ length: Math.ceil(count / 2) }, (_, seed) =>
        model.generate('Job posting as JSON: ', { jsonSchema: schema, temperature: 1.5, seed, maxTokens: 160 }).then(
          (run) => run,
          (error: { code: string }) => error,
        ),
      ),
    );
    for (const run of runs) {
      // A run that ran out of tokens mid-object is INVALID_JSON_OUTPUT; any complete one must
      // satisfy zod exactly as the grammar shaped it.
      if ('code' in run) {
        expect(run.code).toBe('INVALID_JSON_OUTPUT');
        continue;
      }
      expect(strict.decode(await pieceBytes(path, run.tokens, false))).toBe(run.text);
      const parsed = JobPostingSchema.safeParse(run.json);
      expect(parsed.error?.issues ?? []).toEqual([]);
    }
  }, 120_000);
});
