// Reads and checks a GGUF header (metadata and tensor infos) from a file or a buffer, without
// trusting any count or length in it: every size is bounded by the bytes the file really has.
import { open } from 'node:fs/promises';

import {
  GGML_MAX_DIMS,
  GGML_TYPE_LAYOUT,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_SCALAR_SIZE,
  GgmlType,
  GgufValueType,
  type GgufScalar,
  type GgufValue,
} from './types.js';

/** A GGUF file that does not follow the format; `message` names the problem and where. */
export class GgufFormatError extends Error {
  override readonly name = 'GgufFormatError';
}

export interface GgufTensorInfo {
  name: string;
  /** ne[0] first, as ggml counts them. */
  dims: number[];
  type: GgmlType;
  /** Offset of the data from the start of the tensor-data section. */
  offset: number;
  /** Bytes of data. */
  size: number;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute offset of the tensor-data section. */
  dataOffset: number;
  /** Size of the file (or buffer) the header was read from. */
  fileSize: number;
}

type ReadAt = (position: number, length: number) => Promise<Uint8Array>;

/** Sequential reader over a source of known size, fetching ahead in chunks. */
class Cursor {
  private buffer: Buffer = Buffer.alloc(0);
  private bufferStart = 0;
  position = 0;

  constructor(
    private readonly readAt: ReadAt,
    readonly size: number,
  ) {}

  remaining(): number {
    return this.size - this.position;
  }

  /** Makes `length` bytes at the position available, or fails naming `what`. */
  async need(length: number, what: string): Promise<void> {
    if (length > this.remaining()) {
      throw new GgufFormatError(`${what} at byte ${this.position} needs ${length} bytes, but the file ends after ${this.remaining()}`);
    }
    const end = this.position + length;
    if (end <= this.bufferStart + this.buffer.length) return;
    const keep = this.buffer.subarray(this.position - this.bufferStart);
    const want = Math.min(this.size - this.position, Math.max(length, 1 << 20));
    const more = await this.readAt(this.position + keep.length, want - keep.length);
    this.buffer = Buffer.concat([keep, more]);
    this.bufferStart = this.position;
    if (this.buffer.length < length) throw new GgufFormatError(`the file shrank while ${what} was being read`);
  }

  private take(length: number): Buffer {
    const start = this.position - this.bufferStart;
    this.position += length;
    return this.buffer.subarray(start, start + length);
  }

  async u32(what: string): Promise<number> {
    await this.need(4, what);
    return this.take(4).readUInt32LE(0);
  }

  /** A uint64 that must fit in a safe integer (counts and sizes). */
  async u64(what: string): Promise<number> {
    await this.need(8, what);
    const value = this.take(8).readBigUInt64LE(0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufFormatError(`${what} is ${value}, far beyond any file`);
    return Number(value);
  }

  async string(what: string): Promise<string> {
    const length = await this.u64(`length of ${what}`);
    await this.need(length, what);
    return this.take(length).toString('utf8');
  }

  async scalar(type: GgufValueType, what: string): Promise<GgufScalar> {
    if (type === GgufValueType.STRING) return this.string(what);
    const size = GGUF_SCALAR_SIZE[type];
    if (size === undefined) throw new GgufFormatError(`${what} has unknown value type ${type}`);
    await this.need(size, what);
    const bytes = this.take(size);
    switch (type) {
      case GgufValueType.UINT8: return bytes.readUInt8(0);
      case GgufValueType.INT8: return bytes.readInt8(0);
      case GgufValueType.UINT16: return bytes.readUInt16LE(0);
      case GgufValueType.INT16: return bytes.readInt16LE(0);
      case GgufValueType.UINT32: return bytes.readUInt32LE(0);
      case GgufValueType.INT32: return bytes.readInt32LE(0);
      case GgufValueType.FLOAT32: return bytes.readFloatLE(0);
      case GgufValueType.BOOL: {
        const byte = bytes.readUInt8(0);
        if (byte > 1) throw new GgufFormatError(`${what} is a bool of value ${byte}`);
        return byte === 1;
      }
      case GgufValueType.UINT64: return bytes.readBigUInt64LE(0);
      case GgufValueType.INT64: return bytes.readBigInt64LE(0);
      case GgufValueType.FLOAT64: return bytes.readDoubleLE(0);
      default: throw new GgufFormatError(`${what} has unknown value type ${type}`);
    }
  }

  async value(type: GgufValueType, what: string, depth = 0): Promise<GgufValue> {
    if (type !== GgufValueType.ARRAY) {
      return { type, value: await this.scalar(type, what) } as GgufValue;
    }
    if (depth > 2) throw new GgufFormatError(`${what} nests arrays too deeply`);
    const itemType = await this.u32(`item type of ${what}`);
    const count = await this.u64(`length of ${what}`);
    // Every item takes at least one byte (strings eight): a count the file cannot hold is a lie.
    const minimum = itemType === GgufValueType.STRING || itemType === GgufValueType.ARRAY ? 8 : GGUF_SCALAR_SIZE[itemType as GgufValueType];
    if (minimum === undefined) throw new GgufFormatError(`${what} is an array of unknown type ${itemType}`);
    if (count * minimum > this.remaining()) {
      throw new GgufFormatError(`${what} claims ${count} items, more than the ${this.remaining()} bytes left could hold`);
    }
    if (itemType === GgufValueType.ARRAY) {
      const items: GgufValue[] = [];
      for (let i = 0; i < count; i++) items.push(await this.value(GgufValueType.ARRAY, `${what}[${i}]`, depth + 1));
      return { type: GgufValueType.ARRAY, itemType, value: items };
    }
    const items: GgufScalar[] = new Array(count);
    for (let i = 0; i < count; i++) items[i] = await this.scalar(itemType, `${what}[${i}]`);
    return { type: GgufValueType.ARRAY, itemType, value: items };
  }
}

/** Reads the header of a GGUF file or buffer, checking it against the bytes that exist. */
export async function readGgufHeader(source: string | Uint8Array): Promise<GgufHeader> {
  if (typeof source !== 'string') {
    const bytes = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    return parse(new Cursor(async (position, length) => bytes.subarray(position, position + length), bytes.length));
  }
  const file = await open(source, 'r');
  try {
    const { size } = await file.stat();
    return await parse(
      new Cursor(async (position, length) => {
        const chunk = Buffer.alloc(length);
        const { bytesRead } = await file.read(chunk, 0, length, position);
        return chunk.subarray(0, bytesRead);
      }, size),
    );
  } finally {
    await file.close();
  }
}

async function parse(cursor: Cursor): Promise<GgufHeader> {
  if (cursor.size < 4) throw new GgufFormatError(`the file has ${cursor.size} bytes: too short to be GGUF`);
  const magic = await cursor.u32('magic');
  if (magic !== GGUF_MAGIC) {
    throw new GgufFormatError(`not a GGUF file (magic 0x${magic.toString(16).padStart(8, '0')}, expected "GGUF")`);
  }
  const version = await cursor.u32('version');
  if (version !== 2 && version !== 3) throw new GgufFormatError(`unsupported GGUF version ${version} (2 and 3 are)`);
  const tensorCount = await cursor.u64('tensor count');
  const kvCount = await cursor.u64('metadata count');
  // A key/value takes at least 12 bytes and a tensor info at least 24.
  if (kvCount * 12 > cursor.remaining()) throw new GgufFormatError(`metadata count ${kvCount} is more than the file can hold`);
  if (tensorCount * 24 > cursor.remaining()) throw new GgufFormatError(`tensor count ${tensorCount} is more than the file can hold`);

  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = await cursor.string(`key of metadata #${i}`);
    if (metadata.has(key)) throw new GgufFormatError(`metadata key "${key}" appears twice`);
    const type = await cursor.u32(`type of "${key}"`);
    metadata.set(key, await cursor.value(type, `"${key}"`));
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const alignmentValue = metadata.get('general.alignment');
  if (alignmentValue !== undefined) {
    const value = alignmentValue.value;
    if (alignmentValue.type !== GgufValueType.UINT32 || typeof value !== 'number' || value === 0 || (value & (value - 1)) !== 0) {
      throw new GgufFormatError('general.alignment must be a uint32 power of two');
    }
    alignment = value;
  }

  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = await cursor.string(`name of tensor #${i}`);
    if (names.has(name)) throw new GgufFormatError(`tensor "${name}" appears twice`);
    names.add(name);
    const nDims = await cursor.u32(`dimension count of "${name}"`);
    if (nDims > GGML_MAX_DIMS) throw new GgufFormatError(`tensor "${name}" has ${nDims} dimensions (at most ${GGML_MAX_DIMS})`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(await cursor.u64(`dimension ${d} of "${name}"`));
    const type = await cursor.u32(`type of "${name}"`);
    const layout = GGML_TYPE_LAYOUT[type as GgmlType];
    if (layout === undefined) throw new GgufFormatError(`tensor "${name}" has unknown type ${type}`);
    const offset = await cursor.u64(`data offset of "${name}"`);
    if (offset % alignment !== 0) throw new GgufFormatError(`tensor "${name}" data offset ${offset} is not aligned to ${alignment}`);
    const [block, blockBytes] = layout;
    const [first = 1, ...rest] = dims;
    if (first % block !== 0) throw new GgufFormatError(`tensor "${name}" row of ${first} is not a multiple of its block size ${block}`);
    let size = (first / block) * blockBytes;
    for (const dim of rest) {
      size *= dim;
      if (!Number.isSafeInteger(size) || size > cursor.size) {
        throw new GgufFormatError(`tensor "${name}" of shape [${dims.join(', ')}] is larger than the file`);
      }
    }
    tensors.push({ name, dims, type: type as GgmlType, offset, size });
  }

  const dataOffset = Math.ceil(cursor.position / alignment) * alignment;
  for (const tensor of tensors) {
    const end = dataOffset + tensor.offset + tensor.size;
    if (end > cursor.size) {
      throw new GgufFormatError(
        `tensor "${tensor.name}" data ends at byte ${end}, past the end of the file (${cursor.size} bytes): the file is truncated or corrupt`,
      );
    }
  }
  return { version, metadata, tensors, alignment, dataOffset, fileSize: cursor.size };
}

/** The value of a string, number or boolean metadata key, or undefined. */
export function metadataValue(header: GgufHeader, key: string): GgufScalar | undefined {
  const entry = header.metadata.get(key);
  return entry === undefined || entry.type === GgufValueType.ARRAY ? undefined : entry.value;
}
