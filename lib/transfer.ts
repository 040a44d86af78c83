// One file's HTTP transfer to disk: streamed to NAME.part, hashed as it arrives, resumed with a
// Range request after a dropped connection (bounded retries, exponential backoff), and renamed to
// NAME only once its size, SHA-256 and GGUF header check out. The token goes to the hub's own URL,
// never to where a redirect points, and never into a message.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';

import { LlamaError } from './errors.js';
import { GgufFormatError, readGgufHeader } from './gguf/reader.js';
import { checkProtocol, withoutQuery } from './hub.js';

/** Retries after a failure that may pass (a dropped connection, 5xx, 429), and the first wait,
 *  doubled each time. A try that moved the download forward starts the count again. */
export const RETRY = { attempts: 5, baseDelayMs: 500 };

const MAX_REDIRECTS = 10;
const GGUF_MAGIC = Buffer.from('GGUF', 'latin1');

/** Where a request goes and how: the token (first hop only), http allowed, the abort signal. */
export interface RequestTarget {
  url: URL;
  /** Sent as `Authorization: Bearer …` to `url` itself; a redirect's target never gets it. */
  token?: string | undefined;
  /** Whether `url` is the hub's: its 401/403 get the gated hint and its ETag is a SHA-256. */
  hub: boolean;
  allowHttp: boolean;
  signal?: AbortSignal | undefined;
}

/** A file to fetch into `path`, with the SHA-256 the caller knows, and where progress goes. */
export interface FileTarget extends RequestTarget {
  path: string;
  sha256?: string | undefined;
  /** Called as bytes arrive (`done`: the file is complete), with the bytes so far and the total. */
  onBytes?: ((downloaded: number, total: number | undefined, done: boolean) => void) | undefined;
}

/** A failure that may pass: the request is tried again after a wait. */
class Transient extends Error {}

/** An error thrown by the caller's progress callback, carried past the transfer's own handling. */
class CallbackError {
  constructor(readonly error: unknown) {}
}

/** What the first (pre-redirect) response tells of the file: the hub's SHA-256 and size. */
interface Announced {
  sha256?: string;
  size?: number;
}

function aborted(): LlamaError {
  return new LlamaError('ABORTED', 'the download was aborted');
}

/** A URL as messages show it: without its query, where a signed URL keeps its credentials. */
function shown(url: URL): string {
  return url.search === '' ? url.href : `${withoutQuery(url)}?…`;
}

function failed(message: string, cause?: unknown): LlamaError {
  return new LlamaError('DOWNLOAD_FAILED', message, cause === undefined ? undefined : { cause });
}

/** A SHA-256 from an ETag or X-Linked-Etag value (`"…"`, `W/"…"`), if it is one. */
export function etagSha256(value: string | null): string | undefined {
  const bare = value
    ?.trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
  return bare !== undefined && /^[0-9a-f]{64}$/i.test(bare) ? bare.toLowerCase() : undefined;
}

function announced(response: Response, hub: boolean): Announced {
  if (!hub) return {};
  const sha256 = etagSha256(response.headers.get('x-linked-etag')) ?? etagSha256(response.headers.get('etag'));
  const size = Number(response.headers.get('x-linked-size') ?? Number.NaN);
  return {
    ...(sha256 === undefined ? {} : { sha256 }),
    ...(Number.isSafeInteger(size) && size >= 0 ? { size } : {}),
  };
}

/** Waits `ms`, or rejects with ABORTED as soon as `signal` fires. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Why an HTTP status ends a request, as a DOWNLOAD_FAILED, or Transient for one worth retrying. */
function statusError(response: Response, target: RequestTarget, url: URL): Error {
  const { status } = response;
  const what = `HTTP ${status} ${response.statusText}`.trim();
  if (status === 408 || status === 429 || status >= 500) return new Transient(`${what} from ${url.host}`);
  let hint = '';
  if (target.hub && (status === 401 || status === 403)) {
    hint =
      target.token === undefined
        ? ': the repository is gated or private: set HF_TOKEN (or pass token) to a token with access to it'
        : ': the token has no access to this repository (gated: accept its terms on the hub first)';
  } else if (status === 404) hint = ': no such file';
  return failed(`cannot download ${shown(target.url)}: ${what}${hint}`);
}

/**
 * Sends `method` to the target, following redirects by hand so the token stays with the first
 * hop; returns the first response's announcement and the final response.
 */
async function request(
  target: RequestTarget,
  method: 'GET' | 'HEAD',
  headers: Record<string, string> = {},
  stopWhen?: (first: Announced) => boolean,
): Promise<{ first: Announced; response: Response }> {
  let url = target.url;
  let first: Announced | undefined;
  for (let hop = 0; ; hop++) {
    const sent = {
      ...headers,
      ...(hop === 0 && target.token !== undefined ? { authorization: `Bearer ${target.token}` } : {}),
    };
    let response: Response;
    try {
      response = await fetch(url, { method, headers: sent, redirect: 'manual', signal: target.signal ?? null });
    } catch (error) {
      if (target.signal?.aborted) throw aborted();
      const cause = (error as Error & { cause?: Error }).cause;
      throw new Transient(`cannot reach ${url.host}: ${cause?.message ?? (error as Error).message}`);
    }
    first ??= announced(response, target.hub);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status > 399 || location === null || stopWhen?.(first)) {
      return { first, response };
    }
    await response.body?.cancel();
    if (hop === MAX_REDIRECTS)
      throw failed(`cannot download ${shown(target.url)}: more than ${MAX_REDIRECTS} redirects`);
    const next = new URL(location, url);
    const refused = checkProtocol(next, target.allowHttp);
    if (refused !== undefined)
      throw failed(`cannot download ${shown(target.url)}: a redirect to ${next.host}: ${refused}`);
    url = next;
  }
}

/** Runs `attempt`, again after each Transient failure (with backoff), at most RETRY.attempts more
 *  times in a row; `progressed` says whether the last try moved forward (a fresh count). */
async function retrying<T>(
  target: RequestTarget,
  attempt: () => Promise<T>,
  progressed: () => boolean = () => false,
): Promise<T> {
  let failures = 0;
  for (;;) {
    if (target.signal?.aborted) throw aborted();
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof Transient)) throw error;
      if (progressed()) failures = 0;
      if (++failures > RETRY.attempts) {
        throw failed(`cannot download ${shown(target.url)}: ${error.message} (after ${RETRY.attempts} retries)`);
      }
      await sleep(RETRY.baseDelayMs * 2 ** (failures - 1), target.signal);
    }
  }
}

/** GETs JSON (the hub's API), with the token and retries. */
export async function requestJson(target: RequestTarget): Promise<unknown> {
  return retrying(target, async () => {
    const { response } = await request(target, 'GET', { accept: 'application/json' });
    if (!response.ok) {
      await response.body?.cancel();
      throw statusError(response, target, target.url);
    }
    try {
      return (await response.json()) as unknown;
    } catch (error) {
      if (target.signal?.aborted) throw aborted();
      throw failed(`cannot download ${shown(target.url)}: the answer is not JSON`, error);
    }
  });
}

/** What a HEAD request tells of a file without fetching it: its SHA-256 (hub) and size. */
export async function probe(target: RequestTarget): Promise<Announced> {
  return retrying(target, async () => {
    // The hub's first answer names the SHA-256: no need to ask where it redirects.
    const { first, response } = await request(
      target,
      'HEAD',
      { 'accept-encoding': 'identity' },
      (announce) => announce.sha256 !== undefined,
    );
    await response.body?.cancel();
    if (first.sha256 !== undefined) return first;
    if (!response.ok) throw statusError(response, target, target.url);
    const length = Number(response.headers.get('content-length') ?? Number.NaN);
    return first.size !== undefined || !Number.isSafeInteger(length) ? first : { ...first, size: length };
  });
}

/** SHA-256 of a file, read in chunks (models are GBs), abortable between chunks. */
export async function hashFile(path: string, hash: Hash, signal: AbortSignal | undefined): Promise<number> {
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) {
    if (signal?.aborted) throw aborted();
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return size;
}

/** The first bytes of a file (fewer when it is shorter). */
async function head(path: string, length: number): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await file.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/** Where a transfer stands: bytes on disk (all hashed) and the file's total, once known. */
interface Progress {
  offset: number;
  hash: Hash;
  total: number | undefined;
  first: Announced;
}

/** The bytes of `NAME.part` a resume can build on: a consistent prefix that starts like GGUF. */
async function resumable(part: string, progress: Progress, signal: AbortSignal | undefined): Promise<void> {
  const size = await stat(part).then(
    (stats) => stats.size,
    () => 0,
  );
  if (size >= GGUF_MAGIC.length && (await head(part, GGUF_MAGIC.length)).equals(GGUF_MAGIC)) {
    progress.offset = await hashFile(part, progress.hash, signal);
  } else {
    await rm(part, { force: true });
  }
}

/** Starts the download again from byte 0. */
function restart(progress: Progress): void {
  progress.offset = 0;
  progress.hash = createHash('sha256');
  progress.total = undefined;
}

/** One GET of the rest of the file; returns when the body has ended. */
async function fetchRest(target: FileTarget, part: string, progress: Progress): Promise<void> {
  const from = progress.offset;
  // identity: fetch would otherwise ask for gzip and decode it, and byte ranges would not add up.
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (from > 0) headers.range = `bytes=${from}-`;
  const { first, response } = await request(target, 'GET', headers);
  progress.first = { ...first, ...progress.first };
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  if (response.status === 416 && from > 0) {
    await response.body?.cancel();
    // The part may hold the whole file already; otherwise it is not this file's: start again.
    const whole = /^bytes \*\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
    if (whole !== null && Number(whole[1]) === from) {
      progress.total = from;
      return;
    }
    restart(progress);
    throw new Transient(`${target.url.host} refused to resume at byte ${from}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw statusError(response, target, target.url);
  }
  if (response.status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
    if (range === null || Number(range[1]) !== from) {
      await response.body?.cancel();
      restart(progress);
      throw new Transient(`${target.url.host} answered another range than bytes=${from}-`);
    }
    progress.total = range[3] === '*' ? undefined : Number(range[3]);
  } else {
    // 200 to a Range request: the server sends the whole file, so it starts over.
    if (from > 0) restart(progress);
    progress.total = Number.isSafeInteger(length) ? length : undefined;
  }
  if (response.body === null) throw new Transient(`${target.url.host} sent no body`);

  let file: FileHandle;
  try {
    file = await open(part, progress.offset > 0 ? 'a' : 'w');
  } catch (error) {
    await response.body.cancel();
    throw failed(`cannot write ${part}: ${(error as Error).message}`, error);
  }
  const report = () => {
    try {
      target.onBytes?.(progress.offset, progress.total, false);
    } catch (error) {
      throw new CallbackError(error);
    }
  };
  try {
    report();
    let pending: Buffer | undefined = progress.offset === 0 ? Buffer.alloc(0) : undefined;
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      let bytes: Buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (pending !== undefined) {
        // An HTML error page (or anything not GGUF) is refused at its first bytes.
        bytes = Buffer.concat([pending, bytes]);
        if (bytes.length < GGUF_MAGIC.length) {
          pending = bytes;
          continue;
        }
        pending = undefined;
        if (!bytes.subarray(0, GGUF_MAGIC.length).equals(GGUF_MAGIC)) {
          // Leaving the loop cancels the body: the rest of the page is not read.
          const begins = JSON.stringify(bytes.subarray(0, 16).toString('latin1'));
          throw new LlamaError('INVALID_MODEL_FILE', `${shown(target.url)} is not a GGUF file (it begins ${begins})`);
        }
      }
      try {
        await file.write(bytes);
      } catch (error) {
        throw failed(`cannot write ${part}: ${(error as Error).message}`, error);
      }
      progress.hash.update(bytes);
      progress.offset += bytes.length;
      report();
      if (target.signal?.aborted) throw aborted();
    }
    if (pending !== undefined && pending.length > 0) {
      throw new LlamaError('INVALID_MODEL_FILE', `${shown(target.url)} is not a GGUF file (${pending.length} bytes)`);
    }
  } catch (error) {
    if (error instanceof CallbackError) throw error.error;
    if (target.signal?.aborted) throw aborted();
    if (error instanceof LlamaError) throw error;
    throw new Transient(`the connection to ${target.url.host} was lost after byte ${progress.offset}`);
  } finally {
    await file.close();
  }
  if (progress.total !== undefined && progress.offset < progress.total) {
    throw new Transient(`the connection to ${target.url.host} closed at byte ${progress.offset} of ${progress.total}`);
  }
}

/**
 * Downloads `target.url` to `target.path` through `path.part`: resumes a part left by an earlier
 * try, retries dropped connections, and renames the file into place once its size, SHA-256
 * (given, else the hub's) and GGUF header are right; a file that fails them is deleted, part and all.
 * Resolves with the file's SHA-256.
 */
export async function fetchFile(target: FileTarget): Promise<string> {
  const part = `${target.path}.part`;
  const progress: Progress = { offset: 0, hash: createHash('sha256'), total: undefined, first: {} };
  await resumable(part, progress, target.signal);
  let reached = progress.offset;
  try {
    await retrying(
      target,
      () => fetchRest(target, part, progress),
      () => {
        const moved = progress.offset > reached;
        reached = progress.offset;
        return moved;
      },
    );
  } catch (error) {
    // An HTML page (or another file) is no start to resume from.
    if (error instanceof LlamaError && error.code === 'INVALID_MODEL_FILE') await rm(part, { force: true });
    throw error;
  }
  const name = basename(target.path);
  const reject = async (code: 'DOWNLOAD_FAILED' | 'CHECKSUM_MISMATCH' | 'INVALID_MODEL_FILE', message: string) => {
    await rm(part, { force: true });
    throw new LlamaError(code, `${message}; the download was deleted`);
  };

  const size = progress.first.size ?? progress.total;
  if (size !== undefined && progress.offset !== size) {
    await reject('DOWNLOAD_FAILED', `${name}: ${progress.offset} bytes arrived, the server announced ${size}`);
  }
  const expected = target.sha256 ?? progress.first.sha256;
  const actual = progress.hash.digest('hex');
  if (expected !== undefined && actual !== expected) {
    const from = target.sha256 === undefined ? 'the hub publishes' : 'sha256 expects';
    await reject('CHECKSUM_MISMATCH', `${name}: its SHA-256 is ${actual}, ${from} ${expected}`);
  }
  try {
    await readGgufHeader(part, { arrays: false });
  } catch (error) {
    if (!(error instanceof GgufFormatError)) throw error;
    await reject('INVALID_MODEL_FILE', `${name} is not a valid GGUF file: ${error.message}`);
  }
  await rename(part, target.path);
  target.onBytes?.(progress.offset, progress.offset, true);
  return actual;
}
