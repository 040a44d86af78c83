// generate({ jsonSchema }): every schema of a corpus covering the supported keywords yields JSON
// that parses and validates — on a random-weight model, greedy and sampled, because the grammar
// leaves no other choice. Unsupported keywords are errors, not silently dropped.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { jsonSchemaToGrammar, LlamaModel, type JsonSchema } from '../../lib/index.js';
import { loadAddon, type NativeModel } from '../../lib/native.js';
import { testModelPath } from '../fixtures/models.js';
import { vocabPath } from '../fixtures/paths.js';

const text = (maxLength = 12) => ({ type: 'string', maxLength });

/** Schemas covering each supported keyword; free text is bounded so random weights finish. */
const CORPUS: Record<string, JsonSchema> = {
  string: text(),
  'string lengths': { type: 'string', minLength: 2, maxLength: 5 },
  integer: { type: 'integer' },
  'integer range': { type: 'integer', minimum: -40, maximum: 1234 },
  'integer exclusive range': { type: 'integer', exclusiveMinimum: 0, exclusiveMaximum: 10 },
  number: { type: 'number' },
  'non-negative number': { type: 'number', minimum: 0 },
  boolean: { type: 'boolean' },
  null: { type: 'null' },
  'type union': { type: ['integer', 'null', 'boolean'] },
  enum: { enum: ['red', 'green', 42, null, { a: [1] }] },
  const: { const: { version: 2, tags: ['x'] } },
  'object, required and optional': {
    type: 'object',
    properties: {
      name: text(),
      age: { type: 'integer', minimum: 0, maximum: 150 },
      nick: text(8),
      admin: { type: 'boolean' },
    },
    required: ['name', 'age'],
    additionalProperties: false,
  },
  'object, additional properties of a schema': {
    type: 'object',
    properties: { id: { type: 'integer' } },
    required: ['id'],
    additionalProperties: { type: 'integer', minimum: 0, maximum: 9 },
    maxProperties: undefined,
  },
  'array of items': { type: 'array', items: { type: 'integer', minimum: 0, maximum: 99 }, minItems: 1, maxItems: 4 },
  'array, tuple (prefixItems)': { type: 'array', prefixItems: [text(5), { type: 'integer' }, { type: 'boolean' }] },
  'array, tuple then items': {
    type: 'array',
    prefixItems: [{ const: 'head' }],
    items: { type: 'integer' },
    maxItems: 3,
  },
  'pattern, a phone number': { type: 'string', pattern: '^\\+?[0-9]{1,3}-[0-9]{3}-[0-9]{4}$' },
  'pattern, alternation and groups': { type: 'string', pattern: '^(?:cat|dog)s? (no\\.)?[A-Z][a-z]{0,5}$' },
  'format date': { type: 'string', format: 'date' },
  'format time': { type: 'string', format: 'time' },
  'format date-time': { type: 'string', format: 'date-time' },
  'format uuid': { type: 'string', format: 'uuid' },
  'format email': { type: 'string', format: 'email' },
  anyOf: { anyOf: [{ type: 'integer' }, text(6), { type: 'array', items: { type: 'boolean' }, maxItems: 2 }] },
  oneOf: {
    oneOf: [
      {
        type: 'object',
        properties: { kind: { const: 'a' }, n: { type: 'integer' } },
        required: ['kind', 'n'],
        additionalProperties: false,
      },
      { type: 'null' },
    ],
  },
  allOf: {
    allOf: [
      { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] },
      { properties: { b: text(4) }, required: ['b'] },
    ],
  },
  '$ref and $defs': {
    type: 'object',
    properties: { from: { $ref: '#/$defs/point' }, to: { $ref: '#/$defs/point' } },
    required: ['from', 'to'],
    additionalProperties: false,
    $defs: {
      point: {
        type: 'object',
        properties: { x: { type: 'integer' }, y: { type: 'integer' } },
        required: ['x', 'y'],
        additionalProperties: false,
      },
    },
  },
  'a job posting': {
    type: 'object',
    properties: {
      title: text(20),
      remote: { enum: ['onsite', 'hybrid', 'remote'] },
      salary: {
        type: 'object',
        properties: {
          min: { type: 'integer', minimum: 0, maximum: 1000000 },
          max: { type: 'integer', minimum: 0, maximum: 1000000 },
          currency: { enum: ['USD', 'EUR'] },
        },
        required: ['min', 'max', 'currency'],
        additionalProperties: false,
      },
      skills: { type: 'array', items: text(10), maxItems: 3 },
      posted: { type: 'string', format: 'date' },
    },
    required: ['title', 'remote', 'skills'],
    additionalProperties: false,
  },
};
delete (CORPUS['object, additional properties of a schema'] as Record<string, unknown>).maxProperties;

let model: LlamaModel;
beforeAll(async () => {
  model = await LlamaModel.load(testModelPath('spmF32'), { contextSize: 1024, sequences: 4 });
});
afterAll(async () => {
  await model.dispose();
});

describe('generate({ jsonSchema }) on random weights', () => {
  // The keys of additional properties are strings without a bound (JSON Schema has none for
  // them here): sampling from random weights may never close one, so those run greedy only.
  const unboundedKeys = new Set(['object, additional properties of a schema']);

  test.each(Object.entries(CORPUS))('%s: greedy and sampled output parse and validate', async (name, schema) => {
    const runs = await Promise.all([
      model.generate('Answer in JSON:', { jsonSchema: schema, temperature: 0, maxTokens: 400 }),
      ...(unboundedKeys.has(name)
        ? []
        : [
            model.generate('JSON:', { jsonSchema: schema, temperature: 1, seed: 1, maxTokens: 400 }),
            model.generate('{', {
              jsonSchema: schema,
              temperature: 1.5,
              topK: 0,
              topP: 1,
              minP: 0,
              seed: 2,
              maxTokens: 400,
            }),
          ]),
    ]);
    for (const result of runs) {
      expect(result.stopReason).toBe('eog');
      expect(JSON.parse(result.text)).toEqual(result.json);
    }
  });

  test('the result is typed by the caller', async () => {
    const result = await model.generate<{ name: string; age: number }>('Person:', {
      jsonSchema: CORPUS['object, required and optional'] as JsonSchema,
      temperature: 0,
      maxTokens: 200,
    });
    expect(typeof result.json.name).toBe('string');
    expect(Number.isInteger(result.json.age)).toBe(true);
  });

  test('output cut off by maxTokens is INVALID_JSON_OUTPUT, naming why', async () => {
    await expect(
      model.generate('x', { jsonSchema: CORPUS['a job posting'] as JsonSchema, temperature: 0, maxTokens: 3 }),
    ).rejects.toMatchObject({
      code: 'INVALID_JSON_OUTPUT',
      message: expect.stringMatching(/stopped \(maxTokens\) before the JSON was complete/),
    });
  });

  test('grammar and jsonSchema together are INVALID_OPTION', async () => {
    await expect(
      model.generate('x', { jsonSchema: { type: 'integer' }, grammar: 'root ::= "1"' }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});

describe('jsonSchemaToGrammar: unsupported keywords are errors', () => {
  test.each([
    [{ not: { type: 'string' } }, /"not" is not supported/],
    [{ type: 'array', items: { type: 'integer' }, uniqueItems: true }, /"uniqueItems" is not supported/],
    [{ type: 'object', patternProperties: { '^a': {} } }, /"patternProperties" is not supported/],
    [{ type: 'integer', multipleOf: 3 }, /"multipleOf" is not supported/],
    // biome-ignore lint/suspicious/noThenProperty: a JSON Schema "then" keyword
    [{ if: { type: 'string' }, then: { maxLength: 3 } }, /"if" is not supported/],
    [
      { type: 'string', format: 'uri' },
      /format "uri" is not supported \(supported: date, time, date-time, uuid, email\)/,
    ],
    [{ type: 'string', pattern: '^(?=a)a$' }, /lookarounds/],
    [{ type: 'string', pattern: '^(a)\\1$' }, /back-references/],
    [{ type: 'string', pattern: '^(a$' }, /unbalanced parentheses/],
    [{ $ref: 'https://example.com/schema.json' }, /only references within the schema/],
    [{ $ref: '#/$defs/missing' }, /points at nothing/],
    [false, /allows no value/],
    [{ type: 'integer', minimum: 5, maximum: 1 }, /no integer lies between/],
    [{ type: 'string', minLength: 5, maxLength: 2 }, /maxLength is below minLength/],
    [{ type: 'vector' }, /unknown type "vector"/],
  ])('%j', (schema, message) => {
    expect(() => jsonSchemaToGrammar(schema as JsonSchema)).toThrow(
      expect.objectContaining({ code: 'INVALID_JSON_SCHEMA', message: expect.stringMatching(message) }),
    );
  });

  test('an unsupported keyword fails generate() before any native work', async () => {
    await expect(model.generate('x', { jsonSchema: { type: 'object', minProperties: 1 } })).rejects.toMatchObject({
      code: 'INVALID_JSON_SCHEMA',
    });
  });
});

describe("jsonSchemaToGrammar: exact languages, checked by llama.cpp's grammar engine", () => {
  let vocab: NativeModel;
  beforeAll(async () => {
    const addon = loadAddon();
    await addon.initBackend();
    vocab = await addon.loadModel(vocabPath('llama-bpe'), { vocabOnly: true });
  });
  afterAll(() => vocab.dispose());

  const accepts = async (schema: JsonSchema, sample: string) => {
    const tokens = await vocab.tokenize(sample, { addSpecial: false });
    const { accepted, complete } = await vocab.grammarMatch(jsonSchemaToGrammar(schema), tokens);
    return accepted === tokens.length && complete;
  };

  test.each([
    [
      { type: 'integer', minimum: -40, maximum: 1234 },
      ['-40', '-1', '0', '7', '99', '1234', '1000'],
      ['-41', '1235', '01', '-0', '12345', '1.5'],
    ],
    [{ type: 'integer', exclusiveMinimum: 0, exclusiveMaximum: 10 }, ['1', '9'], ['0', '10', '-1']],
    [{ type: 'string', minLength: 2, maxLength: 3 }, ['"ab"', '"abc"', '"\\n\\t"'], ['"a"', '"abcd"', 'ab']],
    // A bounded string counts characters of the BMP, each one code point and one UTF-16 unit: an
    // astral character (two units, one code point) or a surrogate escape would make JSON Schema's
    // count and JavaScript's (zod's) disagree. Combining marks count as the code points they are.
    [
      { type: 'string', maxLength: 3 },
      ['"日本語"', '"e\u0301x"', '"é́x"', '"\\u00e9ab"', '"\uffff"'],
      ['"😀"', '"a😀"', '"\\ud83d\\ude00"', '"\\udfff"', '"e\u0301xy"'],
    ],
    [{ type: 'string' }, ['"😀😀😀😀"', '"\\ud83d\\ude00"'], []],
    [{ type: 'string', pattern: '^[a-c]{2}\\d$' }, ['"ab1"', '"cc9"'], ['"ab"', '"abd"', '"xx1"']],
    [{ type: 'string', pattern: '^a\\sb$' }, ['"a b"', '"a\\tb"'], ['"ab"']],
    [
      { type: 'string', format: 'date-time' },
      ['"2024-02-29T23:59:59Z"', '"2024-02-29T23:59:59.123+05:30"'],
      ['"2024-02-29 23:59:59Z"', '"2024-13-01T00:00:00Z"'],
    ],
    [{ type: 'string', format: 'email' }, ['"ada@example.com"', '"a.b+c@x.co.uk"'], ['"ada@"', '"@x.com"', '"ada@x"']],
    [
      {
        type: 'object',
        properties: { a: { type: 'integer' }, b: { type: 'integer' } },
        required: ['b'],
        additionalProperties: { type: 'boolean' },
      },
      // Required properties come first (in declaration order), then optional ones, then others.
      ['{"b":1}', '{"b":2,"a":1}', '{"b":2,"x":true}', '{"b":2,"a":1,"x":false,"y":true}', '{\n  "b": 1\n}'],
      ['{}', '{"a":1}', '{"a":1,"b":2}', '{"b":1,"a":true}', '{"b":1,"x":1}', '{"b":1,"a":1,"a":2}'],
    ],
    [
      {
        $ref: '#/$defs/node',
        $defs: {
          node: {
            type: 'object',
            properties: { v: { type: 'integer' }, next: { anyOf: [{ $ref: '#/$defs/node' }, { type: 'null' }] } },
            required: ['v', 'next'],
            additionalProperties: false,
          },
        },
      },
      ['{"v":1,"next":null}', '{"v":1,"next":{"v":2,"next":{"v":3,"next":null}}}'],
      ['{"v":1}', '{"v":1,"next":{"v":2}}', '{"v":1,"next":{}}'],
    ],
  ] as Array<[JsonSchema, string[], string[]]>)('%j', async (schema, valid, invalid) => {
    for (const sample of valid) expect(await accepts(schema, sample), sample).toBe(true);
    for (const sample of invalid) expect(await accepts(schema, sample), sample).toBe(false);
  });
});
