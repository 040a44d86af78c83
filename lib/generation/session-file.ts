// A chat session's file: its conversation, the tokens its sequence holds and that sequence's memory
// (llama_state_seq_get_data's bytes), behind a header that names the model file by its SHA-256 and
// the format's version, and a SHA-256 of everything before it at the end.
//
//   "LLNAPICS" | u32 version | u32 header bytes | header (JSON) | u64 state bytes | state
//   | u64 draft bytes | draft state | SHA-256 of all the above (32 bytes)
//
// Integers are little-endian. A file that is cut short, damaged, of another model or of a newer
// format is INVALID_SESSION_FILE before llama.cpp reads any of it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

import { LlamaError } from '../errors.js';

const MAGIC = Buffer.from('LLNAPICS', 'latin1');
/** The format this library writes and reads. */
export const SESSION_FORMAT_VERSION = 1;
/** Bytes hashed between two turns of the event loop. */
const CHUNK = 16 << 20;

/** What a session file holds besides the sequence's memory. */
export interface SessionHeader {
  /** The model file the memory belongs to. */
  model: { sha256: string; size: number };
  /** The LoRA adapters it was made with (resolved paths). */
  lora: Array<{ path: string; scale: number }>;
  /** The session's options (without functions), its messages, and where reset() goes back to. */
  options: Record<string, unknown>;
  messages: unknown[];
  start: unknown[];
  /** The tokens the saved memory holds. */
  tokens: number[];
}

export interface SessionFile {
  header: SessionHeader;
  state: Uint8Array;
  draftState: Uint8Array;
}

function invalid(path: string, why: string): LlamaError {
  return new LlamaError('INVALID_SESSION_FILE', `${path} is not a chat session this model can load: ${why}`);
}

/** SHA-256 of `parts`, yielding to the event loop between chunks of a large buffer. */
async function digest(parts: readonly Uint8Array[]): Promise<Buffer> {
  const hash = createHash('sha256');
  for (const part of parts) {
    for (let at = 0; at < part.length; at += CHUNK) {
      hash.update(part.subarray(at, at + CHUNK));
      if (part.length > CHUNK) await yieldToLoop();
    }
  }
  return hash.digest();
}

/** SHA-256 of a file, read as a stream. */
export async function fileSha256(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return { sha256: hash.digest('hex'), size: (await stat(path)).size };
}

function u64(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt(value));
  return bytes;
}

/** Writes the file whole or not at all (a temporary file renamed over `path`). */
export async function writeSessionFile(path: string, file: SessionFile): Promise<void> {
  const header = Buffer.from(JSON.stringify(file.header), 'utf8');
  const prefix = Buffer.alloc(16);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(SESSION_FORMAT_VERSION, 8);
  prefix.writeUInt32LE(header.length, 12);
  const parts = [prefix, header, u64(file.state.length), file.state, u64(file.draftState.length), file.draftState];
  parts.push(await digest(parts));
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    for (const part of parts) await handle.write(part);
    await handle.close();
    await rename(temporary, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** Reads and checks a session file: its shape, version and checksum (not yet whose model it is). */
export async function readSessionFile(path: string): Promise<SessionFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new LlamaError('INVALID_ARGUMENT', `no chat session file at ${path}`);
    throw invalid(path, `it cannot be read (${code ?? String(error)})`);
  }
  if (bytes.length < 16 || !bytes.subarray(0, 8).equals(MAGIC)) throw invalid(path, 'it is not a chat session file');
  const version = bytes.readUInt32LE(8);
  if (version > SESSION_FORMAT_VERSION) {
    throw invalid(
      path,
      `it has format ${version}, made by a newer llama-napi (this one reads ${SESSION_FORMAT_VERSION})`,
    );
  }
  if (version < 1) throw invalid(path, `it has format ${version}, which no llama-napi wrote`);
  if (bytes.length < 16 + 32) throw invalid(path, 'it is cut short');
  const body = bytes.subarray(0, bytes.length - 32);
  if (!(await digest([body])).equals(bytes.subarray(bytes.length - 32))) {
    throw invalid(path, 'it is cut short or damaged (its checksum does not match)');
  }
  let at = 12;
  const take = (length: number, what: string): Buffer => {
    if (length > body.length - at) throw invalid(path, `its ${what} runs past its end`);
    const part = body.subarray(at, at + length);
    at += length;
    return part;
  };
  const length64 = (what: string): number => {
    const value = take(8, what).readBigUInt64LE();
    if (value > BigInt(body.length)) throw invalid(path, `its ${what} runs past its end`);
    return Number(value);
  };
  const headerLength = take(4, 'header').readUInt32LE();
  let header: unknown;
  try {
    header = JSON.parse(take(headerLength, 'header').toString('utf8'));
  } catch (error) {
    if (error instanceof LlamaError) throw error;
    throw invalid(path, 'its header is not JSON');
  }
  const state = take(length64('state'), 'state');
  const draftState = take(length64('draft state'), 'draft state');
  if (at !== body.length) throw invalid(path, 'it has bytes after its state');
  return { header: checkHeader(path, header), state, draftState };
}

function checkHeader(path: string, header: unknown): SessionHeader {
  const record = (value: unknown): value is Record<string, unknown> =>
    value !== null && typeof value === 'object' && !Array.isArray(value);
  if (!record(header)) throw invalid(path, 'its header is not an object');
  const { model, lora, options, messages, start, tokens } = header;
  const ok =
    record(model) &&
    typeof model.sha256 === 'string' &&
    typeof model.size === 'number' &&
    Array.isArray(lora) &&
    lora.every((entry) => record(entry) && typeof entry.path === 'string' && typeof entry.scale === 'number') &&
    record(options) &&
    Array.isArray(messages) &&
    Array.isArray(start) &&
    Array.isArray(tokens) &&
    tokens.every((token) => Number.isInteger(token) && token >= 0);
  if (!ok) throw invalid(path, 'its header lacks fields this format has');
  return header as unknown as SessionHeader;
}
