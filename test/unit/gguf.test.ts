// The GGUF reader and writer: round trips, half-precision encoding, and the checks that keep a
// malformed header from reaching llama.cpp.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, test } from 'vitest';

import {
  GgmlType,
  GgufFormatError,
  GgufValueType,
  encodeTensor,
  gguf,
  readGgufHeader,
  tensorByteSize,
  toFloat16Bits,
  writeGguf,
} from '../../lib/gguf/index.js';

const scratch = mkdtempSync(join(tmpdir(), 'llama-napi-gguf-'));

describe('toFloat16Bits', () => {
  test.each([
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [65520, 0x7c00],
    [Number.POSITIVE_INFINITY, 0x7c00],
    [2 ** -24, 0x0001],
    [2 ** -14, 0x0400],
    [1 + 2 ** -11, 0x3c00],
    [1 + 3 * 2 ** -11, 0x3c02],
    [0.1, 0x2e66],
  ])('%f → 0x%s', (value, bits) => {
    expect(toFloat16Bits(value)).toBe(bits);
  });

  test('NaN stays NaN', () => {
    const bits = toFloat16Bits(Number.NaN);
    expect(bits & 0x7c00).toBe(0x7c00);
    expect(bits & 0x3ff).not.toBe(0);
  });
});

describe('writeGguf / readGgufHeader', () => {
  test('round-trips metadata of every type and tensor infos', async () => {
    const path = join(scratch, 'roundtrip.gguf');
    const f32 = new Float32Array(64).map((_, i) => i / 8);
    writeGguf(path, {
      metadata: [
        ['general.architecture', gguf.str('llama')],
        ['a.u8', gguf.u8(200)],
        ['a.u32', gguf.u32(4_000_000_000)],
        ['a.i32', gguf.i32(-5)],
        ['a.u64', gguf.u64(2n ** 40n)],
        ['a.f32', gguf.f32(0.25)],
        ['a.bool', gguf.bool(true)],
        ['a.strings', gguf.array(GgufValueType.STRING, ['x', 'ÿ', ''])],
        ['a.ints', gguf.array(GgufValueType.INT32, [1, -2, 3])],
      ],
      tensors: [
        { name: 't.f32', dims: [32, 2], type: GgmlType.F32, data: encodeTensor(f32, 'f32') },
        { name: 't.q8', dims: [64], type: GgmlType.Q8_0, data: () => encodeTensor(f32, 'q8_0') },
      ],
    });
    const header = await readGgufHeader(path);
    expect(header.version).toBe(3);
    expect(Object.fromEntries([...header.metadata].map(([key, value]) => [key, value.value]))).toEqual({
      'general.architecture': 'llama',
      'a.u8': 200,
      'a.u32': 4_000_000_000,
      'a.i32': -5,
      'a.u64': 2n ** 40n,
      'a.f32': 0.25,
      'a.bool': true,
      'a.strings': ['x', 'ÿ', ''],
      'a.ints': [1, -2, 3],
    });
    expect(header.tensors).toEqual([
      { name: 't.f32', dims: [32, 2], type: GgmlType.F32, offset: 0, size: 256 },
      { name: 't.q8', dims: [64], type: GgmlType.Q8_0, offset: 256, size: 68 },
    ]);
    expect(header.dataOffset % 32).toBe(0);
    expect(header.fileSize).toBe(header.dataOffset + 256 + 68);
    const bytes = readFileSync(path);
    expect(
      new Float32Array(
        bytes.buffer.slice(bytes.byteOffset + header.dataOffset, bytes.byteOffset + header.dataOffset + 256),
      ),
    ).toEqual(f32);
  });

  test('tensorByteSize follows the block layout', () => {
    expect(tensorByteSize(GgmlType.F16, [64, 3])).toBe(384);
    expect(tensorByteSize(GgmlType.Q8_0, [64, 3])).toBe(2 * 34 * 3);
    expect(tensorByteSize(GgmlType.Q4_K, [256])).toBe(144);
    expect(() => tensorByteSize(GgmlType.Q8_0, [33])).toThrow(RangeError);
  });

  test('Q8_0 blocks: an F16 scale of max|x|/127 and rounded quants', () => {
    const values = new Float32Array(32).map((_, i) => i - 16);
    const block = Buffer.from(encodeTensor(values, 'q8_0'));
    expect(block.length).toBe(34);
    expect(block.readUInt16LE(0)).toBe(toFloat16Bits(16 / 127));
    expect(block.readInt8(2)).toBe(-127);
    expect(block.readInt8(2 + 16)).toBe(0);
  });

  const base = (() => {
    const path = join(scratch, 'base.gguf');
    writeGguf(path, {
      metadata: [['general.architecture', gguf.str('llama')]],
      tensors: [{ name: 'w', dims: [32, 4], type: GgmlType.F32, data: new Uint8Array(512) }],
    });
    return readFileSync(path);
  })();

  const mutate = (edit: (bytes: Buffer) => Buffer) => edit(Buffer.from(base));
  // An edit that writes into the bytes in place and hands them back.
  const writing =
    (write: (bytes: Buffer) => unknown) =>
    (bytes: Buffer): Buffer => {
      write(bytes);
      return bytes;
    };

  test.each([
    ['a bad magic', writing((b) => b.write('GGML', 0)), /not a GGUF file/],
    ['version 1', writing((b) => b.writeUInt32LE(1, 4)), /unsupported GGUF version 1/],
    [
      'a huge tensor count',
      writing((b) => b.writeBigUInt64LE(2n ** 40n, 8)),
      /tensor count \d+ is more than the file can hold/,
    ],
    [
      'a huge metadata count',
      writing((b) => b.writeBigUInt64LE(2n ** 50n, 16)),
      /metadata count \d+ is more than the file can hold/,
    ],
    ['a count beyond any file', writing((b) => b.writeBigUInt64LE(2n ** 63n, 16)), /far beyond any file/],
    ['a huge key length', writing((b) => b.writeBigUInt64LE(2n ** 40n, 24)), /needs \d+ bytes, but the file ends/],
    ['truncated tensor data', (b: Buffer) => b.subarray(0, b.length - 4), /past the end of the file/],
  ])('rejects %s', async (_what, edit, message) => {
    const error = await readGgufHeader(mutate(edit)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GgufFormatError);
    expect((error as Error).message).toMatch(message);
  });

  test('rejects an unknown tensor type and too many dimensions', async () => {
    // The tensor info of "w": name length (8) and name (1), n_dims (4), dims (2 × 8), type (4), offset (8).
    const nameAt = base.indexOf(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0x77]));
    const unknown = Buffer.from(base);
    unknown.writeUInt32LE(99, nameAt + 9 + 4 + 16);
    await expect(readGgufHeader(unknown)).rejects.toThrow(/unknown type 99/);
    const dims = Buffer.from(base);
    dims.writeUInt32LE(7, nameAt + 9);
    await expect(readGgufHeader(dims)).rejects.toThrow(/has 7 dimensions/);
  });

  test('reads a real vocabulary file of llama.cpp', async () => {
    const { vocabPath } = await import('../fixtures/paths.js');
    const header = await readGgufHeader(vocabPath('llama-spm'));
    const tokens = header.metadata.get('tokenizer.ggml.tokens');
    expect(tokens?.type).toBe(GgufValueType.ARRAY);
    expect(tokens?.value).toHaveLength(32000);
    expect(header.tensors).toEqual([]);
  });

  test('arrays: false counts arrays without reading them; unique finds a repeated string either way', async () => {
    const { vocabPath } = await import('../fixtures/paths.js');
    const header = await readGgufHeader(vocabPath('llama-spm'), { arrays: false, unique: ['tokenizer.ggml.tokens'] });
    const tokens = header.metadata.get('tokenizer.ggml.tokens');
    expect(tokens).toMatchObject({
      type: GgufValueType.ARRAY,
      itemType: GgufValueType.STRING,
      value: [],
      length: 32000,
    });
    expect(header.metadata.get('tokenizer.ggml.scores')).toMatchObject({
      itemType: GgufValueType.FLOAT32,
      value: [],
      length: 32000,
    });

    // Every llama.cpp vocabulary has distinct tokens, and the hash table probes past shared slots.
    for (const name of ['llama-bpe', 'qwen2', 'gpt-2', 'bert-bge']) {
      const full = await readGgufHeader(vocabPath(name), { unique: ['tokenizer.ggml.tokens'] });
      const list = full.metadata.get('tokenizer.ggml.tokens')!.value as string[];
      expect(new Set(list).size).toBe(list.length);
    }

    const path = join(scratch, 'repeat.gguf');
    const list = ['a', 'b', 'ab', 'ba', 'b\u00e9', 'b', 'c'];
    writeGguf(path, { metadata: [['tokenizer.ggml.tokens', gguf.array(GgufValueType.STRING, list)]], tensors: [] });
    for (const arrays of [true, false]) {
      await expect(readGgufHeader(path, { arrays, unique: ['tokenizer.ggml.tokens'] })).rejects.toThrow(
        new GgufFormatError('tokenizer.ggml.tokens has "b" twice (at 5)'),
      );
    }
    // Without `unique`, a repeat is no format error (validateModel() finds it in a read array).
    expect((await readGgufHeader(path)).metadata.get('tokenizer.ggml.tokens')?.value).toEqual(list);
  });
});
