// Bad input: every case is a LlamaError with the right code, and the process stays healthy
// (a model still loads and generates afterwards).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { LlamaError, LlamaModel } from '../../lib/index.js';
import { testModelPath } from '../fixtures/models.js';

const scratch = mkdtempSync(join(tmpdir(), 'llama-napi-errors-'));

async function expectCode(promise: Promise<unknown>, code: string, message?: RegExp): Promise<LlamaError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a LlamaError ${code}, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LlamaError);
  expect((error as LlamaError).code).toBe(code);
  if (message) expect((error as LlamaError).message).toMatch(message);
  return error as LlamaError;
}

describe('LlamaModel.load: bad files', () => {
  test('a missing path is MODEL_NOT_FOUND', async () => {
    await expectCode(LlamaModel.load(join(scratch, 'nope.gguf')), 'MODEL_NOT_FOUND', /no model file at .*nope\.gguf/);
  });

  test('a directory is INVALID_MODEL_FILE', async () => {
    await expectCode(LlamaModel.load(scratch), 'INVALID_MODEL_FILE', /is not a file/);
  });

  test('a file that is not GGUF is INVALID_MODEL_FILE', async () => {
    const path = join(scratch, 'text.gguf');
    writeFileSync(path, 'this is not a model, just some text that is long enough');
    await expectCode(LlamaModel.load(path), 'INVALID_MODEL_FILE', /not a GGUF file \(magic 0x73696874/);
  });

  test('an empty file is INVALID_MODEL_FILE', async () => {
    const path = join(scratch, 'empty.gguf');
    writeFileSync(path, '');
    await expectCode(LlamaModel.load(path), 'INVALID_MODEL_FILE', /too short to be GGUF/);
  });

  test.each([
    ['in the header', 20],
    ['in the metadata', 4000],
    ['in the tensor data', -1000],
  ])('a GGUF truncated %s is INVALID_MODEL_FILE', async (_where, at) => {
    const whole = readFileSync(testModelPath('spmQ8'));
    const path = join(scratch, `truncated-${at}.gguf`);
    writeFileSync(path, whole.subarray(0, at < 0 ? whole.length + at : at));
    await expectCode(
      LlamaModel.load(path),
      'INVALID_MODEL_FILE',
      at < 0 ? /past the end of the file/ : /the file ends|more than the \d+ bytes left could hold/,
    );
  });

  test('an unsupported GGUF version is INVALID_MODEL_FILE', async () => {
    const bytes = Buffer.from(readFileSync(testModelPath('spmQ8')).subarray(0, 64));
    bytes.writeUInt32LE(99, 4);
    const path = join(scratch, 'version.gguf');
    writeFileSync(path, bytes);
    await expectCode(LlamaModel.load(path), 'INVALID_MODEL_FILE', /unsupported GGUF version 99/);
  });

  test('a vocabulary with a repeated token is INVALID_MODEL_FILE naming it (llama.cpp would assert)', async () => {
    // <0x42> (token 69 of the SPM vocabulary) overwritten with <0x41>: same length, a valid header.
    const bytes = Buffer.from(readFileSync(testModelPath('spmQ8')));
    const at = bytes.indexOf('<0x42>');
    expect(at).toBeGreaterThan(0);
    bytes.write('<0x41>', at);
    const path = join(scratch, 'repeated-token.gguf');
    writeFileSync(path, bytes);
    await expectCode(
      LlamaModel.load(path),
      'INVALID_MODEL_FILE',
      /tokenizer\.ggml\.tokens has "<0x41>" twice \(at 69\)/,
    );
  });

  test("a well-formed GGUF that llama.cpp cannot load is MODEL_LOAD_FAILED with llama.cpp's reason", async () => {
    // A vocabulary file has no weights: loading it as a full model fails inside llama.cpp.
    const { vocabPath } = await import('../fixtures/paths.js');
    await expectCode(LlamaModel.load(vocabPath('llama-spm')), 'MODEL_LOAD_FAILED', /llama\.cpp could not load .*: .+/);
  });
});

describe('LlamaModel.load: bad options', () => {
  const path = testModelPath('spmQ8');
  test.each([
    [{ contextSize: -1 }, /contextSize must be an integer from 1/],
    [{ contextSize: 0 }, /contextSize/],
    [{ contextSize: 1.5 }, /contextSize/],
    [{ contextSize: Number.NaN }, /contextSize/],
    [{ contextSize: '512' }, /contextSize/],
    [{ threads: 0 }, /threads/],
    [{ batchSize: -5 }, /batchSize/],
    [{ gpuLayers: -2 }, /gpuLayers/],
    [{ vocabOnly: 'yes' }, /vocabOnly must be a boolean/],
    [{ onProgress: 5 }, /onProgress must be a function/],
    [{ signal: {} }, /signal must be an AbortSignal/],
    [{ flashAttention: 'on' }, /flashAttention/],
    [{ contextsize: 512 }, /has no option "contextsize"/],
  ])('%j is INVALID_OPTION', async (options, message) => {
    await expectCode(LlamaModel.load(path, options as never), 'INVALID_OPTION', message);
  });

  test('a path that is not a string is INVALID_ARGUMENT', async () => {
    await expectCode(LlamaModel.load(42 as never), 'INVALID_ARGUMENT');
    await expectCode(LlamaModel.load(''), 'INVALID_ARGUMENT');
  });

  test('an already aborted signal is ABORTED', async () => {
    await expectCode(LlamaModel.load(path, { signal: AbortSignal.abort() }), 'ABORTED');
  });
});

describe('LlamaModel.generate: bad input', () => {
  let model: LlamaModel;
  beforeAll(async () => {
    model = await LlamaModel.load(testModelPath('spmF32'), { contextSize: 64 });
  });
  afterAll(async () => {
    await model.dispose();
  });

  test('a prompt longer than the context is CONTEXT_OVERFLOW, and the model still works', async () => {
    const long = 'hello '.repeat(400);
    await expectCode(
      model.generate(long),
      'CONTEXT_OVERFLOW',
      /the prompt has \d+ tokens, more than the context holds \(256\)/,
    );
    const result = await model.generate('Hello', { temperature: 0, maxTokens: 3 });
    expect(result.tokens).toHaveLength(3);
  });

  test('a prompt without tokens is INVALID_ARGUMENT, also when streamed', async () => {
    await expectCode(
      model.generate('', { addSpecial: false }),
      'INVALID_ARGUMENT',
      /^the prompt is empty \(no tokens\)$/,
    );
    await expectCode(model.stream('', { addSpecial: false }).result, 'INVALID_ARGUMENT', /the prompt is empty/);
  });

  test.each([
    [{ temperature: -1 }, /temperature/],
    [{ temperature: Number.POSITIVE_INFINITY }, /temperature/],
    [{ topP: 1.5 }, /topP/],
    [{ topK: -1 }, /topK/],
    [{ minP: Number.NaN }, /minP/],
    [{ maxTokens: -1 }, /maxTokens/],
    [{ seed: 2 ** 32 }, /seed/],
    [{ onToken: 'no' }, /onToken must be a function/],
    [{ maxtokens: 5 }, /has no option "maxtokens"/],
  ])('%j is INVALID_OPTION', async (options, message) => {
    await expectCode(model.generate('Hello', options as never), 'INVALID_OPTION', message);
  });

  test('a prompt that is not a string is INVALID_ARGUMENT', async () => {
    await expectCode(model.generate(undefined as never), 'INVALID_ARGUMENT');
  });

  test('an onToken that throws rejects generate() with that very error', async () => {
    const boom = new Error('boom from onToken');
    await expect(
      model.generate('Hello', {
        maxTokens: 10,
        onToken: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
    const result = await model.generate('Hello', { temperature: 0, maxTokens: 2 });
    expect(result.tokens).toHaveLength(2);
  });

  test('tokenize and detokenize reject bad arguments', async () => {
    await expectCode(model.tokenize(5 as never), 'INVALID_ARGUMENT');
    await expectCode(
      model.detokenize([1, -1]),
      'INVALID_ARGUMENT',
      /tokens\[1\] = -1 is not a token id of this model \(0 to 31999\)/,
    );
    await expectCode(model.detokenize([1, 32000]), 'INVALID_ARGUMENT', /32000 is not a token id/);
    await expectCode(model.detokenize([1.5]), 'INVALID_ARGUMENT', /not an integer/);
    await expectCode(model.detokenize('abc' as never), 'INVALID_ARGUMENT');
  });

  test('a vocabulary-only model cannot generate: VOCAB_ONLY', async () => {
    await using vocab = await LlamaModel.load(testModelPath('spmQ8'), { vocabOnly: true });
    await expectCode(vocab.generate('Hello'), 'VOCAB_ONLY');
    expect(await vocab.tokenize('Hello')).toEqual([1, 15043]);
  });
});
