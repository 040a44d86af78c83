// Writes GGUF files (version 3): metadata, tensor infos, aligned tensor data, streamed tensor by
// tensor so large models never sit in memory whole.
import { closeSync, openSync, writeSync } from 'node:fs';

import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  type GgmlType,
  GgufValueType,
  tensorByteSize,
  type GgufScalar,
  type GgufValue,
} from './types.js';

/** A tensor to write: name, dimensions, type and its bytes (or a function producing them when reached). */
export interface GgufTensorSource {
  name: string;
  /** ne[0] first. */
  dims: number[];
  type: GgmlType;
  /** The tensor's bytes, or a function producing them when the writer reaches this tensor. */
  data: Uint8Array | (() => Uint8Array);
}

/** What writeGguf() writes: metadata (in order), tensors and the data alignment. */
export interface GgufFileSpec {
  /** Written in insertion order. */
  metadata: Map<string, GgufValue> | Array<[string, GgufValue]>;
  tensors: GgufTensorSource[];
  alignment?: number;
}

/** Typed metadata values, for building a spec. */
export const gguf = {
  u8: (value: number): GgufValue => ({ type: GgufValueType.UINT8, value }),
  u32: (value: number): GgufValue => ({ type: GgufValueType.UINT32, value }),
  i32: (value: number): GgufValue => ({ type: GgufValueType.INT32, value }),
  u64: (value: bigint): GgufValue => ({ type: GgufValueType.UINT64, value }),
  f32: (value: number): GgufValue => ({ type: GgufValueType.FLOAT32, value }),
  bool: (value: boolean): GgufValue => ({ type: GgufValueType.BOOL, value }),
  str: (value: string): GgufValue => ({ type: GgufValueType.STRING, value }),
  array: (itemType: GgufValueType, value: GgufScalar[]): GgufValue => ({ type: GgufValueType.ARRAY, itemType, value }),
};

/** Growable little-endian byte buffer for the header. */
class ByteWriter {
  private buffer = Buffer.alloc(1 << 16);
  length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = Buffer.alloc(size);
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  u32(value: number): void {
    this.reserve(4);
    this.length = this.buffer.writeUInt32LE(value, this.length);
  }

  u64(value: number | bigint): void {
    this.reserve(8);
    this.length = this.buffer.writeBigUInt64LE(BigInt(value), this.length);
  }

  bytes(value: Uint8Array): void {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.u64(bytes.length);
    this.bytes(bytes);
  }

  scalar(type: GgufValueType, value: GgufScalar): void {
    this.reserve(8);
    const b = this.buffer;
    switch (type) {
      case GgufValueType.UINT8:
        this.length = b.writeUInt8(Number(value), this.length);
        break;
      case GgufValueType.INT8:
        this.length = b.writeInt8(Number(value), this.length);
        break;
      case GgufValueType.UINT16:
        this.length = b.writeUInt16LE(Number(value), this.length);
        break;
      case GgufValueType.INT16:
        this.length = b.writeInt16LE(Number(value), this.length);
        break;
      case GgufValueType.UINT32:
        this.length = b.writeUInt32LE(Number(value), this.length);
        break;
      case GgufValueType.INT32:
        this.length = b.writeInt32LE(Number(value), this.length);
        break;
      case GgufValueType.FLOAT32:
        this.length = b.writeFloatLE(Number(value), this.length);
        break;
      case GgufValueType.BOOL:
        this.length = b.writeUInt8(value ? 1 : 0, this.length);
        break;
      case GgufValueType.UINT64:
        this.length = b.writeBigUInt64LE(BigInt(value), this.length);
        break;
      case GgufValueType.INT64:
        this.length = b.writeBigInt64LE(BigInt(value), this.length);
        break;
      case GgufValueType.FLOAT64:
        this.length = b.writeDoubleLE(Number(value), this.length);
        break;
      case GgufValueType.STRING:
        this.string(String(value));
        break;
      default:
        throw new TypeError(`cannot write a scalar of GGUF type ${type}`);
    }
  }

  value(entry: GgufValue): void {
    if (entry.type !== GgufValueType.ARRAY) {
      this.scalar(entry.type, entry.value);
      return;
    }
    this.u32(entry.itemType);
    this.u64(entry.value.length);
    for (const item of entry.value) {
      if (entry.itemType === GgufValueType.ARRAY) this.value(item as GgufValue);
      else this.scalar(entry.itemType, item as GgufScalar);
    }
  }

  contents(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

const align = (offset: number, alignment: number) => Math.ceil(offset / alignment) * alignment;

/** Writes `spec` to `path` as a GGUF v3 file; returns the file's size in bytes. */
export function writeGguf(path: string, spec: GgufFileSpec): number {
  const alignment = spec.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  const metadata = [...spec.metadata];
  if (alignment !== GGUF_DEFAULT_ALIGNMENT && !metadata.some(([key]) => key === 'general.alignment')) {
    metadata.push(['general.alignment', gguf.u32(alignment)]);
  }

  const header = new ByteWriter();
  header.u32(GGUF_MAGIC);
  header.u32(3);
  header.u64(spec.tensors.length);
  header.u64(metadata.length);
  for (const [key, value] of metadata) {
    header.string(key);
    header.u32(value.type);
    header.value(value);
  }
  const sizes = spec.tensors.map((tensor) => tensorByteSize(tensor.type, tensor.dims));
  let offset = 0;
  spec.tensors.forEach((tensor, i) => {
    header.string(tensor.name);
    header.u32(tensor.dims.length);
    for (const dim of tensor.dims) header.u64(dim);
    header.u32(tensor.type);
    header.u64(offset);
    offset = align(offset + (sizes[i] ?? 0), alignment);
  });

  const fd = openSync(path, 'w');
  try {
    let position = 0;
    const write = (bytes: Uint8Array) => {
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
      position += bytes.length;
    };
    const pad = (to: number) => {
      if (to > position) write(new Uint8Array(to - position));
    };
    write(header.contents());
    pad(align(position, alignment));
    const dataStart = position;
    spec.tensors.forEach((tensor, i) => {
      const data = typeof tensor.data === 'function' ? tensor.data() : tensor.data;
      if (data.length !== sizes[i]) {
        throw new RangeError(`tensor "${tensor.name}" has ${data.length} bytes of data, its shape needs ${sizes[i]}`);
      }
      pad(dataStart + align(position - dataStart, alignment));
      write(data);
    });
    return position;
  } finally {
    closeSync(fd);
  }
}
