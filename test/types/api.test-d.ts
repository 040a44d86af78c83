// The public API's types, checked by the compiler (vitest --typecheck): what a user writes against
// llama-napi compiles to the types they expect — including `json` typed from an inline schema.
import { describe, expectTypeOf, test } from 'vitest';

import {
  type AiProviderError,
  type DownloadProgress,
  defaultModelsDir,
  downloadModel,
  type LlamaError,
  LlamaModel,
  LocalProvider,
  getLogLevel,
  jsonSchemaToGrammar,
  setLogger,
  setLogLevel,
  type AiProvider,
  type FromJsonSchema,
  type GenerateResult,
  type JobPosting,
  type LlamaErrorCode,
  type LogLevel,
  type SkillSuggestion,
  type TokenChunk,
} from '../../lib/index.js';
import type { NativeAddon, NativeModel } from '../../lib/native.js';

declare const model: LlamaModel;

describe('LlamaModel', () => {
  test('load, generate, stream, tokenize, embed', () => {
    expectTypeOf(LlamaModel.load).parameter(0).toEqualTypeOf<string>();
    expectTypeOf(LlamaModel.load('m.gguf')).resolves.toEqualTypeOf<LlamaModel>();
    expectTypeOf(model.generate('Hi')).resolves.toEqualTypeOf<GenerateResult>();
    expectTypeOf(model.generate('Hi', { maxTokens: 4, temperature: 0 }))
      .resolves.toHaveProperty('text')
      .toEqualTypeOf<string>();
    expectTypeOf(model.tokenize('Hi')).resolves.toEqualTypeOf<number[]>();
    expectTypeOf(model.embed('Hi')).resolves.toEqualTypeOf<Float32Array>();
    expectTypeOf(model.stream('Hi')).toMatchTypeOf<AsyncIterable<TokenChunk>>();
    expectTypeOf(model.stream('Hi').result).resolves.toEqualTypeOf<GenerateResult>();
    expectTypeOf(model.dispose()).resolves.toBeVoid();
    expectTypeOf(model).toHaveProperty(Symbol.asyncDispose);
    // @ts-expect-error maxTokens is a number
    void model.generate('Hi', { maxTokens: '4' });
    // @ts-expect-error stream() takes no onToken
    void model.stream('Hi', { onToken: () => undefined });
  });

  test('json is typed from an inline schema', () => {
    const person = model.generate('Person:', {
      jsonSchema: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          age: { type: 'integer' },
          role: { enum: ['dev', 'ops'] },
          tags: { type: 'array', items: { type: 'string' } },
          manager: { type: ['string', 'null'] },
        },
        required: ['name', 'age', 'role'],
      },
    });
    expectTypeOf(person).resolves.toHaveProperty('json').toEqualTypeOf<{
      name: string;
      age: number;
      role: 'dev' | 'ops';
      tags?: string[];
      manager?: string | null;
    }>();
    expectTypeOf(person).resolves.toHaveProperty('text').toEqualTypeOf<string>();
  });

  test('an explicit type argument wins; a schema not known statically gives unknown', () => {
    expectTypeOf(model.generate<{ n: number }>('x', { jsonSchema: { type: 'object' } }))
      .resolves.toHaveProperty('json')
      .toEqualTypeOf<{ n: number }>();
    const schema: Record<string, unknown> = JSON.parse('{}');
    expectTypeOf(model.generate('x', { jsonSchema: schema }))
      .resolves.toHaveProperty('json')
      .toBeUnknown();
    expectTypeOf(model.chat([{ role: 'user', content: 'x' }], { jsonSchema: { type: 'boolean' } }))
      .resolves.toHaveProperty('json')
      .toEqualTypeOf<boolean>();
  });
});

describe('FromJsonSchema', () => {
  test('keywords the grammar supports', () => {
    expectTypeOf<FromJsonSchema<{ type: 'string'; format: 'date' }>>().toEqualTypeOf<string>();
    expectTypeOf<FromJsonSchema<{ const: 42 }>>().toEqualTypeOf<42>();
    expectTypeOf<FromJsonSchema<{ anyOf: [{ type: 'number' }, { type: 'null' }] }>>().toEqualTypeOf<number | null>();
    expectTypeOf<FromJsonSchema<{ prefixItems: [{ type: 'string' }, { type: 'boolean' }] }>>().toEqualTypeOf<
      [string, boolean]
    >();
    expectTypeOf<FromJsonSchema<{ prefixItems: [{ type: 'string' }]; items: { type: 'number' } }>>().toEqualTypeOf<
      [string, ...number[]]
    >();
    expectTypeOf<FromJsonSchema<{ type: 'object' }>>().toEqualTypeOf<{ [key: string]: unknown }>();
    expectTypeOf<FromJsonSchema<{ type: 'object'; additionalProperties: { type: 'number' } }>>().toEqualTypeOf<{
      [key: string]: number;
    }>();
    expectTypeOf<
      FromJsonSchema<{
        allOf: [{ properties: { a: { type: 'string' } }; required: ['a'] }, { properties: { b: { type: 'number' } } }];
      }>
    >().toMatchTypeOf<{ a: string; b?: number }>();
    type Tree = {
      $defs: { leaf: { type: 'object'; properties: { v: { type: 'number' } }; required: ['v'] } };
      type: 'array';
      items: { $ref: '#/$defs/leaf' };
    };
    expectTypeOf<FromJsonSchema<Tree>>().toEqualTypeOf<{ v: number }[]>();
    expectTypeOf<FromJsonSchema<true>>().toBeUnknown();
    expectTypeOf<FromJsonSchema<false>>().toBeNever();
  });
});

describe('LocalProvider', () => {
  test('the four operations return the typed results', () => {
    const provider = new LocalProvider({ modelPath: 'm.gguf' });
    expectTypeOf(provider).toMatchTypeOf<AiProvider>();
    expectTypeOf(provider.parseJob('posting')).resolves.toEqualTypeOf<JobPosting>();
    expectTypeOf(provider.suggestSkills).returns.resolves.toEqualTypeOf<SkillSuggestion[]>();
    expectTypeOf<JobPosting['remotePolicy']>().toEqualTypeOf<'onsite' | 'hybrid' | 'remote' | undefined>();
    expectTypeOf<JobPosting['title']>().toEqualTypeOf<string>();
  });
});

describe('downloadModel', () => {
  test('resolves with the local path; progress is typed', () => {
    expectTypeOf(downloadModel('hf:owner/repo:Q4_K_M')).resolves.toEqualTypeOf<string>();
    expectTypeOf(downloadModel).parameter(1).toMatchTypeOf<
      | {
          dir?: string;
          sha256?: string;
          token?: string;
          allowHttp?: boolean;
          signal?: AbortSignal;
          onProgress?: (progress: DownloadProgress) => void;
        }
      | undefined
    >();
    expectTypeOf<DownloadProgress['totalBytes']>().toEqualTypeOf<number | undefined>();
    expectTypeOf(defaultModelsDir()).toEqualTypeOf<string>();
    expectTypeOf(LlamaModel.load)
      .parameter(1)
      .toMatchTypeOf<{ onDownloadProgress?: (progress: DownloadProgress) => void } | undefined>();
  });
});

describe('errors, logging, grammar, raw addon', () => {
  test('error codes are a closed union', () => {
    expectTypeOf<LlamaError['code']>().toEqualTypeOf<LlamaErrorCode>();
    expectTypeOf<'DISPOSED'>().toMatchTypeOf<LlamaErrorCode>();
    expectTypeOf<'NOPE'>().not.toMatchTypeOf<LlamaErrorCode>();
    expectTypeOf<'DOWNLOAD_FAILED' | 'CHECKSUM_MISMATCH'>().toMatchTypeOf<LlamaErrorCode>();
    expectTypeOf<AiProviderError>().toMatchTypeOf<Error>();
  });

  test('logging', () => {
    expectTypeOf(setLogLevel).parameter(0).toEqualTypeOf<LogLevel>();
    expectTypeOf(getLogLevel()).toEqualTypeOf<'debug' | 'info' | 'warn' | 'error' | 'none'>();
    expectTypeOf(setLogger)
      .parameter(0)
      .toEqualTypeOf<((level: 'debug' | 'info' | 'warn' | 'error', message: string) => void) | null>();
  });

  test('grammar and raw addon', () => {
    expectTypeOf(jsonSchemaToGrammar).returns.toEqualTypeOf<string>();
    expectTypeOf<NativeAddon['loadModel']>().returns.resolves.toEqualTypeOf<NativeModel>();
  });
});
