// Reads and checks a GGUF header (metadata and tensor infos) from a file or a buffer, without
// trusting any count or length in it: every size is bounded by the bytes the file really has.
import { open } from 'node:fs/promises';

import {
  GGML_MAX_DIMS,
  GGML_TYPE_LAYOUT,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_SCALAR_SIZE,
  type GgmlType,
  GgufValueType,
  type GgufScalar,
  type GgufValue,
} from './types.js';

/** A GGUF file that does not follow the format; `message` names the problem and where. */
export class GgufFormatError extends Error {
  override readonly name = 'GgufFormatError';
}

/** One tensor's entry in a GGUF header: name, dimensions, type, data offset and size. */
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

/** A GGUF file's header as readGgufHeader() reads it: version, metadata, tensor infos and where the data begins. */
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

/** Thrown when parsing reaches the end of the bytes read so far but not of the file. */
class NeedMore extends Error {}

/** Synchronous reader over the first bytes of a source of known size. */
class Cursor {
  position = 0;

  constructor(
    private readonly buffer: Buffer,
    readonly size: number,
    /** Check arrays' bounds but do not materialize their items (validation only), except the
     *  arrays of the keys in `keep`. */
    private readonly skipArrays = false,
    private readonly keep: ReadonlySet<string> = new Set(),
    /** Keys of string arrays whose items must all differ (checked on the bytes, read or not). */
    private readonly unique: ReadonlySet<string> = new Set(),
  ) {}

  /** Set by parse() to the key whose value is being read. */
  currentKey = '';

  remaining(): number {
    return this.size - this.position;
  }

  /** Makes sure `length` bytes follow, or fails naming `what`. */
  need(length: number, what: string): void {
    if (length > this.remaining()) {
      throw new GgufFormatError(
        `${what} at byte ${this.position} needs ${length} bytes, but the file ends after ${this.remaining()}`,
      );
    }
    if (this.position + length > this.buffer.length) throw new NeedMore();
  }

  private take(length: number): Buffer {
    const start = this.position;
    this.position += length;
    return this.buffer.subarray(start, start + length);
  }

  u32(what: string): number {
    this.need(4, what);
    return this.take(4).readUInt32LE(0);
  }

  /** A uint64 that must fit in a safe integer (counts and sizes). */
  u64(what: string): number {
    this.need(8, what);
    const value = this.take(8).readBigUInt64LE(0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufFormatError(`${what} is ${value}, far beyond any file`);
    return Number(value);
  }

  string(what: string): string {
    this.need(8, what);
    // The length as two 32-bit halves: BigInt reads cost more than the rest of a short string.
    const low = this.buffer.readUInt32LE(this.position);
    const high = this.buffer.readUInt32LE(this.position + 4);
    if (high >= 0x200000) throw new GgufFormatError(`length of ${what} is beyond any file`);
    const length = high * 0x100000000 + low;
    this.position += 8;
    this.need(length, what);
    const start = this.position;
    this.position += length;
    return this.buffer.toString('utf8', start, start + length);
  }

  scalar(type: GgufValueType, what: string): GgufScalar {
    if (type === GgufValueType.STRING) return this.string(what);
    const size = GGUF_SCALAR_SIZE[type];
    if (size === undefined) throw new GgufFormatError(`${what} has unknown value type ${type}`);
    this.need(size, what);
    const b = this.buffer;
    const at = this.position;
    this.position += size;
    switch (type) {
      case GgufValueType.UINT8:
        return b.readUInt8(at);
      case GgufValueType.INT8:
        return b.readInt8(at);
      case GgufValueType.UINT16:
        return b.readUInt16LE(at);
      case GgufValueType.INT16:
        return b.readInt16LE(at);
      case GgufValueType.UINT32:
        return b.readUInt32LE(at);
      case GgufValueType.INT32:
        return b.readInt32LE(at);
      case GgufValueType.FLOAT32:
        return b.readFloatLE(at);
      case GgufValueType.BOOL: {
        const byte = b.readUInt8(at);
        if (byte > 1) throw new GgufFormatError(`${what} is a bool of value ${byte}`);
        return byte === 1;
      }
      case GgufValueType.UINT64:
        return b.readBigUInt64LE(at);
      case GgufValueType.INT64:
        return b.readBigInt64LE(at);
      case GgufValueType.FLOAT64:
        return b.readDoubleLE(at);
      default:
        throw new GgufFormatError(`${what} has unknown value type ${type}`);
    }
  }

  /**
   * Steps over `count` strings, checking each length against the bytes left; with `distinct`, also
   * that no two are equal — on their raw bytes (a hash each in an open-addressing table, bytes
   * compared when hashes meet), without making strings: a 32,000-token vocabulary takes about a
   * millisecond, where a Set of decoded strings took 15–25.
   */
  private skipStrings(count: number, what: string, distinct: boolean): void {
    const b = this.buffer;
    // Items past the bytes read so far throw NeedMore before they are stored, so the table is
    // bounded by the buffer (an item takes at least 8 bytes), not by the count the file claims.
    const capacity = distinct ? Math.min(count, Math.floor((b.length - this.position) / 8)) : 0;
    let mask = 0;
    while (mask < capacity * 2) mask = mask * 2 + 1;
    const table = new Int32Array(distinct ? mask + 1 : 0); // item index + 1; 0 = free
    const starts = new Float64Array(capacity);
    const ends = new Float64Array(capacity);
    for (let i = 0; i < count; i++) {
      this.need(8, what);
      const low = b.readUInt32LE(this.position);
      const high = b.readUInt32LE(this.position + 4);
      if (high >= 0x200000) throw new GgufFormatError(`length of ${what}[${i}] is beyond any file`);
      this.position += 8;
      const length = high * 0x100000000 + low;
      this.need(length, what);
      const start = this.position;
      const end = start + length;
      this.position = end;
      if (!distinct) continue;
      starts[i] = start;
      ends[i] = end;
      let hash = 0x811c9dc5 | 0;
      for (let j = start; j < end; j++) hash = Math.imul(hash ^ b[j]!, 0x01000193);
      let slot = hash & mask;
      for (let other = table[slot]! - 1; other >= 0; other = table[slot]! - 1) {
        const otherStart = starts[other]!;
        if (ends[other]! - otherStart === length && b.compare(b, start, end, otherStart, otherStart + length) === 0) {
          throw new GgufFormatError(
            `${this.currentKey} has ${JSON.stringify(b.toString('utf8', start, end))} twice (at ${i})`,
          );
        }
        slot = (slot + 1) & mask;
      }
      table[slot] = i + 1;
    }
  }

  value(type: GgufValueType, what: string, depth = 0): GgufValue {
    if (type !== GgufValueType.ARRAY) {
      return { type, value: this.scalar(type, what) } as GgufValue;
    }
    if (depth > 2) throw new GgufFormatError(`${what} nests arrays too deeply`);
    const itemType = this.u32(`item type of ${what}`);
    const count = this.u64(`length of ${what}`);
    // Every item takes at least one byte (strings eight): a count the file cannot hold is a lie.
    const minimum =
      itemType === GgufValueType.STRING || itemType === GgufValueType.ARRAY
        ? 8
        : GGUF_SCALAR_SIZE[itemType as GgufValueType];
    if (minimum === undefined) throw new GgufFormatError(`${what} is an array of unknown type ${itemType}`);
    if (count * minimum > this.remaining()) {
      throw new GgufFormatError(
        `${what} claims ${count} items, more than the ${this.remaining()} bytes left could hold`,
      );
    }
    const distinct = depth === 0 && itemType === GgufValueType.STRING && this.unique.has(this.currentKey);
    if (this.skipArrays && itemType !== GgufValueType.ARRAY && !this.keep.has(this.currentKey)) {
      if (itemType === GgufValueType.STRING) {
        this.skipStrings(count, what, distinct);
      } else {
        this.need(count * minimum, what);
        this.position += count * minimum;
      }
      return { type: GgufValueType.ARRAY, itemType, value: [], length: count };
    }
    if (itemType === GgufValueType.ARRAY) {
      const items: GgufValue[] = [];
      for (let i = 0; i < count; i++) items.push(this.value(GgufValueType.ARRAY, `${what}[${i}]`, depth + 1));
      return { type: GgufValueType.ARRAY, itemType, value: items };
    }
    if (distinct) {
      // Checked on the bytes first, then read.
      const start = this.position;
      this.skipStrings(count, what, true);
      this.position = start;
    }
    const items: GgufScalar[] = new Array(count);
    let i = 0;
    try {
      // One description for every item (building one per item costs more than the reading).
      for (; i < count; i++) items[i] = this.scalar(itemType, what);
    } catch (error) {
      if (error instanceof GgufFormatError) throw new GgufFormatError(error.message.replace(what, `${what}[${i}]`));
      throw error;
    }
    return { type: GgufValueType.ARRAY, itemType, value: items };
  }
}

/** Parses the header from the first bytes read, reading more (4× each time) while it needs more. */
async function parseFrom(
  readAt: (position: number, length: number) => Promise<Buffer>,
  size: number,
  skipArrays: boolean,
  keep: ReadonlySet<string>,
  unique: ReadonlySet<string>,
): Promise<GgufHeader> {
  let length = Math.min(size, 1 << 20);
  for (;;) {
    const buffer = await readAt(0, length);
    if (buffer.length < length) throw new GgufFormatError('the file shrank while its header was being read');
    try {
      return parse(new Cursor(buffer, size, skipArrays, keep, unique));
    } catch (error) {
      if (!(error instanceof NeedMore) || length === size) throw error;
      length = Math.min(size, length * 4);
    }
  }
}

/** Options of {@link readGgufHeader}. */
export interface ReadGgufHeaderOptions {
  /**
   * `false`: array metadata is checked but not read (`value` empty, `length` set) — a fast validation. Default
   * true.
   */
  arrays?: boolean;
  /** Keys whose arrays are read even with `arrays: false`. */
  keep?: readonly string[];
  /** Keys of string arrays whose items must all differ (e.g. `tokenizer.ggml.tokens`), checked on the
   *  raw bytes whether the items are read or not: a repeat is a GgufFormatError naming it. */
  unique?: readonly string[];
}

/**
 * Reads the header of a GGUF file or buffer, checking it against the bytes that exist. With
 * `{ arrays: false }` array metadata is checked but left empty (a fast validation), except the
 * arrays of the keys listed in `keep`.
 */
export async function readGgufHeader(
  source: string | Uint8Array,
  options: ReadGgufHeaderOptions = {},
): Promise<GgufHeader> {
  const skipArrays = options.arrays === false;
  const keep = new Set(options.keep ?? []);
  const unique = new Set(options.unique ?? []);
  if (typeof source !== 'string') {
    const bytes = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    return parse(new Cursor(bytes, bytes.length, skipArrays, keep, unique));
  }
  const file = await open(source, 'r');
  try {
    const { size } = await file.stat();
    return await parseFrom(
      async (position, length) => {
        const chunk = Buffer.allocUnsafe(length);
        const { bytesRead } = await file.read(chunk, 0, length, position);
        return chunk.subarray(0, bytesRead);
      },
      size,
      skipArrays,
      keep,
      unique,
    );
  } finally {
    await file.close();
  }
}

function parse(cursor: Cursor): GgufHeader {
  if (cursor.size < 4) throw new GgufFormatError(`the file has ${cursor.size} bytes: too short to be GGUF`);
  const magic = cursor.u32('magic');
  if (magic !== GGUF_MAGIC) {
    throw new GgufFormatError(`not a GGUF file (magic 0x${magic.toString(16).padStart(8, '0')}, expected "GGUF")`);
  }
  const version = cursor.u32('version');
  if (version !== 2 && version !== 3) throw new GgufFormatError(`unsupported GGUF version ${version} (2 and 3 are)`);
  const tensorCount = cursor.u64('tensor count');
  const kvCount = cursor.u64('metadata count');
  // A key/value takes at least 12 bytes and a tensor info at least 24.
  if (kvCount * 12 > cursor.remaining())
    throw new GgufFormatError(`metadata count ${kvCount} is more than the file can hold`);
  if (tensorCount * 24 > cursor.remaining())
    throw new GgufFormatError(`tensor count ${tensorCount} is more than the file can hold`);

  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = cursor.string(`key of metadata #${i}`);
    if (metadata.has(key)) throw new GgufFormatError(`metadata key "${key}" appears twice`);
    const type = cursor.u32(`type of "${key}"`);
    cursor.currentKey = key;
    metadata.set(key, cursor.value(type, `"${key}"`));
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const alignmentValue = metadata.get('general.alignment');
  if (alignmentValue !== undefined) {
    const value = alignmentValue.value;
    if (
      alignmentValue.type !== GgufValueType.UINT32 ||
      typeof value !== 'number' ||
      value === 0 ||
      (value & (value - 1)) !== 0
    ) {
      throw new GgufFormatError('general.alignment must be a uint32 power of two');
    }
    alignment = value;
  }

  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = cursor.string(`name of tensor #${i}`);
    if (names.has(name)) throw new GgufFormatError(`tensor "${name}" appears twice`);
    names.add(name);
    const nDims = cursor.u32(`dimension count of "${name}"`);
    if (nDims > GGML_MAX_DIMS)
      throw new GgufFormatError(`tensor "${name}" has ${nDims} dimensions (at most ${GGML_MAX_DIMS})`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(cursor.u64(`dimension ${d} of "${name}"`));
    const type = cursor.u32(`type of "${name}"`);
    const layout = GGML_TYPE_LAYOUT[type as GgmlType];
    if (layout === undefined) throw new GgufFormatError(`tensor "${name}" has unknown type ${type}`);
    const offset = cursor.u64(`data offset of "${name}"`);
    if (offset % alignment !== 0)
      throw new GgufFormatError(`tensor "${name}" data offset ${offset} is not aligned to ${alignment}`);
    const [block, blockBytes] = layout;
    const [first = 1, ...rest] = dims;
    if (first % block !== 0)
      throw new GgufFormatError(`tensor "${name}" row of ${first} is not a multiple of its block size ${block}`);
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
        `tensor "${tensor.name}" data ends at byte ${end}, past the end of the file (${cursor.size} bytes): ` +
          'the file is truncated or corrupt',
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
