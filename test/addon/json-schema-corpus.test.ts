// Our JSON-schema converter against llama.cpp's own, over the schemas of llama.cpp's converter
// tests: for every sample text, llama.cpp's grammar engine must accept or reject it alike under
// llama.cpp's grammar (as its test expects it) and under ours.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { jsonSchemaToGrammar } from '../../lib/generation/json-schema.js';
import { LlamaError } from '../../lib/index.js';
import { loadAddon, type NativeModel } from '../../lib/native.js';
import { sampleTexts } from '../fixtures/json-samples.js';
import { vocabPath } from '../fixtures/paths.js';
import { readSchemaCorpus } from '../fixtures/schema-corpus.js';

const corpus = readSchemaCorpus();

/** Samples of a case on which we differ from llama.cpp on purpose (the rest must agree), and why. */
const DIFFERS_ON: Record<string, { reason: string; samples: (text: string) => boolean }> = {
  'optional props with common prefix': {
    reason:
      'llama.cpp also refuses additional keys that are a proper prefix of a declared one ("a" for "ab"); ' +
      'they are additional properties',
    samples: (text) => /"a"\s*:/.test(text),
  },
  'regexp quote': {
    reason:
      'llama.cpp writes a quote matched by a pattern unescaped (the JSON text """, which does not parse); ' +
      'we write "\\""',
    samples: (text) => text === '"\\""',
  },
};
/** Cases where we differ from llama.cpp on purpose, and why. */
const DIVERGENT: Record<string, string> = {
  'mix of allOf, anyOf and $ref (similar to https://json.schemastore.org/tsconfig.json)':
    'llama.cpp makes the properties of allOf members required; JSON Schema (and we) keep them optional',
  'optional props with empty name':
    'llama.cpp names the object rule root0 and makes root the integer rule (a bug): it accepts integers, not objects',
  'unanchored regexp':
    'llama.cpp accepts any string for an unanchored pattern; we require a match somewhere, as JSON Schema does',
  'regexp with unsupported shorthand': 'llama.cpp gives up on \\w and accepts any string; we support \\w',
};
/** Cases llama.cpp degrades to "any string" (with a warning) and we refuse with an error. */
const REFUSED: Record<string, string> = {
  'unsupported regexp in a property': 'lookahead (?=…) cannot be expressed: an error, not a silently weaker grammar',
};

let vocab: NativeModel;
const stats = { schemas: 0, samples: 0, comparisons: 0 };

beforeAll(async () => {
  const addon = loadAddon();
  await addon.initBackend();
  vocab = await addon.loadModel(vocabPath('llama-bpe'), { vocabOnly: true });
});
afterAll(() => {
  vocab.dispose();
  console.log(
    `json-schema corpus: ${stats.schemas} schemas, ${stats.samples} sample texts, ` +
      `${stats.comparisons} grammar comparisons`,
  );
});

async function accepts(grammar: string, text: string): Promise<boolean> {
  const tokens = await vocab.tokenize(text, { addSpecial: false });
  const { accepted, complete } = await vocab.grammarMatch(grammar, tokens);
  return accepted === tokens.length && complete;
}

test("the corpus is there: llama.cpp's converter tests", () => {
  expect(corpus.length).toBeGreaterThanOrEqual(75);
  expect(corpus.filter((c) => c.status === 'SUCCESS').length).toBeGreaterThanOrEqual(70);
});

describe.each(
  corpus
    .filter((c) => c.status === 'SUCCESS' && !(c.name in DIVERGENT) && !(c.name in REFUSED))
    .map((c) => [c.name, c] as const),
)('jsonSchemaToGrammar ≡ llama.cpp: %s', (_name, corpusCase) => {
  test('both grammars accept and reject the same samples', async () => {
    const schema = JSON.parse(corpusCase.schema) as Record<string, unknown>;
    const ours = jsonSchemaToGrammar(schema);
    const samples = sampleTexts(schema);
    const disagreements: string[] = [];
    let acceptedCount = 0;
    for (const sample of samples) {
      const theirs = await accepts(corpusCase.grammar, sample);
      const mine = await accepts(ours, sample);
      if (theirs || mine) acceptedCount++;
      if (theirs !== mine && !DIFFERS_ON[corpusCase.name]?.samples(sample))
        disagreements.push(`${JSON.stringify(sample)}: llama.cpp ${theirs}, ours ${mine}`);
    }
    stats.schemas++;
    stats.samples += samples.length;
    stats.comparisons += samples.length * 2;
    expect(disagreements).toEqual([]);
    // The samples exercise both answers, so agreement means something.
    expect(acceptedCount).toBeGreaterThan(0);
    expect(acceptedCount).toBeLessThan(samples.length);
  });
});

describe('where we differ from llama.cpp, on purpose', () => {
  test.each(Object.entries(REFUSED))('%s: refused (%s)', (name) => {
    const corpusCase = corpus.find((c) => c.name === name);
    expect(corpusCase).toBeDefined();
    expect(() => jsonSchemaToGrammar(JSON.parse(corpusCase?.schema ?? '{}'))).toThrow(LlamaError);
  });

  test.each(Object.keys(DIVERGENT))('%s: converts', (name) => {
    const corpusCase = corpus.find((c) => c.name === name);
    expect(corpusCase).toBeDefined();
    expect(jsonSchemaToGrammar(JSON.parse(corpusCase?.schema ?? '{}'))).toMatch(/^root ::= |\nroot ::= /);
  });

  test.each(corpus.filter((c) => c.status === 'FAILURE').map((c) => [c.name, c] as const))(
    '%s: refused, as llama.cpp refuses it',
    (_name, corpusCase) => {
      expect(() => jsonSchemaToGrammar(JSON.parse(corpusCase.schema))).toThrow(
        expect.objectContaining({ code: 'INVALID_JSON_SCHEMA' }),
      );
    },
  );
});
