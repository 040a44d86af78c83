// Model checks that stand in for llama.cpp's assertions (each found by fuzzing to abort the process).
import { describe, expect, test } from 'vitest';

import {
  gguf,
  GgufFormatError,
  GgufValueType,
  readGgufHeader,
  validateModel,
  writeGguf,
  type GgufValue,
} from '../../lib/gguf/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const scratch = mkdtempSync(join(tmpdir(), 'llama-napi-validate-'));

async function header(metadata: Array<[string, GgufValue]>) {
  const path = join(scratch, `m${Math.random().toString(36).slice(2)}.gguf`);
  writeGguf(path, { metadata: [['general.architecture', gguf.str('llama')], ...metadata], tensors: [] });
  return readGgufHeader(path);
}

const tokens = (list: string[]) => gguf.array(GgufValueType.STRING, list);

describe('validateModel', () => {
  test('accepts a sound model', async () => {
    const h = await header([
      ['llama.block_count', gguf.u32(2)],
      ['llama.attention.layer_norm_rms_epsilon', gguf.f32(1e-5)],
      ['tokenizer.ggml.tokens', tokens(['a', 'b'])],
      ['tokenizer.ggml.scores', gguf.array(GgufValueType.FLOAT32, [0, 1])],
      ['tokenizer.ggml.token_type', gguf.array(GgufValueType.INT32, [1, 1])],
      ['general.file_type', gguf.u32(1024)],
      ['llama.pooling_type', gguf.i32(-1)],
    ]);
    expect(() => validateModel(h)).not.toThrow();
  });

  test.each([
    [[['llama.block_count', gguf.u32(0)]], /block_count is 0: llama.cpp supports 1 to 512 layers/],
    [[['llama.block_count', gguf.u32(513)]], /block_count is 513/],
    [
      [
        ['llama.block_count', gguf.u32(4)],
        ['llama.nextn_predict_layers', gguf.u32(5)],
      ],
      /nextn_predict_layers is 5, more than the 4 layers/,
    ],
    [[['llama.attention.layer_norm_rms_epsilon', gguf.f32(Number.NaN)]], /layer_norm_rms_epsilon is NaN/],
    [[['llama.attention.layer_norm_epsilon', gguf.f32(-1)]], /layer_norm_epsilon is -1/],
    [[['llama.expert_count', gguf.u32(2000)]], /expert_count is 2000: at most 1024/],
    [
      [
        ['llama.expert_count', gguf.u32(8)],
        ['llama.expert_used_count', gguf.u32(9)],
      ],
      /expert_used_count is 9, more than the 8 experts/,
    ],
    [
      [
        ['llama.expert_count', gguf.u32(8)],
        ['llama.expert_used_count', gguf.u32(0)],
      ],
      /expert_used_count must be at least 1/,
    ],
    [[['llama.expert_group_count', gguf.u32(2)]], /expert_group_count is 2 without experts/],
    [[['tokenizer.ggml.tokens', tokens(['a', 'b', 'a'])]], /tokenizer\.ggml\.tokens has "a" twice \(at 2\)/],
    [
      [
        ['tokenizer.ggml.tokens', tokens(['a', 'b'])],
        ['tokenizer.ggml.scores', gguf.array(GgufValueType.FLOAT32, [0])],
      ],
      /scores has 1 entries for 2 tokens/,
    ],
    [
      [
        ['tokenizer.ggml.tokens', tokens(['a', 'b'])],
        ['tokenizer.ggml.token_type', gguf.array(GgufValueType.STRING, ['x', 'y'])],
      ],
      /token_type must be an array of INT32 or UINT32/,
    ],
    [[['tokenizer.ggml.tokens', gguf.array(GgufValueType.INT32, [1, 2])]], /tokens must be an array of strings/],
    [
      [['general.file_type', gguf.u32(1_000_000)]],
      /general\.file_type is 1000000: llama\.cpp's file types are 0 to 2047/,
    ],
    [
      [['llama.pooling_type', gguf.u32(7)]],
      /llama\.pooling_type is 7: llama\.cpp's pooling types are -1 \(unspecified\) to 4 \(rank\)/,
    ],
  ] as Array<[Array<[string, GgufValue]>, RegExp]>)('refuses %#: %s', async (metadata, message) => {
    const h = await header(metadata);
    expect(() => validateModel(h)).toThrow(GgufFormatError);
    expect(() => validateModel(h)).toThrow(message);
  });
});
