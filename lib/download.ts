// downloadModel(): a GGUF model from an https URL or the Hugging Face hub (`hf:` sources) into a
// local folder, every part of a split model, verified before it takes its name; a file already
// there and right is not fetched again.
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

import { LlamaError, invalidOption } from './errors.js';
import { GgufFormatError, readGgufHeader } from './gguf/reader.js';
import {
  baseName,
  checkFileName,
  checkProtocol,
  chooseQuant,
  defaultModelsDir,
  hubEndpoint,
  hubFileUrl,
  hubRepoUrl,
  parseSource,
  type Source,
  splitParts,
  withoutQuery,
} from './hub.js';
import { optionalBoolean, optionalFunction, optionalSignal, optionsObject, rejectUnknown } from './option-checks.js';
import { fetchFile, hashFile, probe, requestJson, type RequestTarget } from './transfer.js';

export { defaultModelsDir } from './hub.js';

/** Options of {@link downloadModel}. */
export interface DownloadOptions {
  /**
   * The folder the file goes into (created if need be). Default: {@link defaultModelsDir}, and a
   * hub file under `OWNER/REPO/` in it.
   */
  dir?: string;
  /**
   * The file's expected SHA-256 (64 hex digits). Default: the one the hub publishes for the file
   * (LFS files: all GGUF models there), else none (the size and the GGUF header are still checked).
   */
  sha256?: string;
  /** Called as the download moves (a few times a second at most, and once as each file completes). */
  onProgress?: (progress: DownloadProgress) => void;
  /** Aborts the download: the promise rejects with `ABORTED`; the `.part` file stays for a resume. */
  signal?: AbortSignal;
  /** A Hugging Face token for gated or private repositories. Default: the HF_TOKEN environment variable. */
  token?: string;
  /** Allow plain `http://` to hosts other than this machine's loopback (127.0.0.1, ::1, localhost). Default false. */
  allowHttp?: boolean;
}

/** Where a download stands, as {@link DownloadOptions.onProgress} hears it. */
export interface DownloadProgress {
  /** The local file name being downloaded. */
  file: string;
  /** Which file of the model it is (0 first: a split model has several) and how many there are. */
  fileIndex: number;
  fileCount: number;
  /** Bytes of this file on disk so far, a resumed part's included. */
  downloadedBytes: number;
  /** The file's size, once the server has said it. */
  totalBytes: number | undefined;
  /** Whether this file is complete and verified. */
  done: boolean;
}

const DOWNLOAD_OPTIONS = ['dir', 'sha256', 'onProgress', 'signal', 'token', 'allowHttp'] as const;
/** The least time between two progress calls for the same file. */
const PROGRESS_INTERVAL_MS = 100;

/** A file of the model to fetch: its URL, local name, and what it is (see {@link Verified}). */
interface ModelFile {
  url: URL;
  name: string;
  id: string;
}

/**
 * What a verified download leaves beside its file (`.FILE.gguf.json`): where it came from, its
 * SHA-256, and the size and mtime it had then. While those still hold, the file is the one wanted
 * without asking the server or hashing it again, so a model downloaded once loads offline, in any
 * process. A file changed since (or placed there by hand) is checked as a new one.
 */
interface Verified {
  /** The file: `hf:OWNER/REPO/PATH` (whatever the endpoint), or its URL without the query. */
  source: string;
  sha256: string;
  size: number;
  mtimeMs: number;
}

const recordOf = (path: string) => join(dirname(path), `.${basename(path)}.json`);

async function recorded(path: string): Promise<Verified | undefined> {
  try {
    const record = JSON.parse(await readFile(recordOf(path), 'utf8')) as Partial<Verified> | null;
    const { source, sha256, size, mtimeMs } = record ?? {};
    if (typeof source !== 'string' || typeof sha256 !== 'string' || typeof size !== 'number') return undefined;
    if (typeof mtimeMs !== 'number') return undefined;
    return { source, sha256, size, mtimeMs };
  } catch {
    return undefined; // none, or unreadable: the file is checked again
  }
}

async function remember(path: string, id: string, sha256: string): Promise<void> {
  const { size, mtimeMs } = await stat(path);
  const record: Verified = { source: id, sha256, size, mtimeMs };
  // Best effort: without the record (a read-only folder, say) the next call checks the file again.
  await writeFile(recordOf(path), `${JSON.stringify(record)}\n`).catch(() => undefined);
}

/** One download in flight per local path in this process: a second waits, then finds the file there. */
const inFlight = new Map<string, Promise<unknown>>();

async function exclusive<T>(path: string, run: () => Promise<T>): Promise<T> {
  const previous = inFlight.get(path) ?? Promise.resolve();
  const current = previous.catch(() => undefined).then(run);
  inFlight.set(path, current);
  try {
    return await current;
  } finally {
    if (inFlight.get(path) === current) inFlight.delete(path);
  }
}

/** The files a source names: one, or every part of a split model (first part first). */
async function modelFiles(
  source: string,
  parsed: Source,
  allowHttp: boolean,
  hub: URL,
  request: (url: URL) => RequestTarget,
): Promise<ModelFile[]> {
  if (parsed.kind === 'url') {
    const name = checkFileName(decodeURIComponent(baseName(parsed.url.pathname)), source);
    const parts = splitParts(name);
    if (parts.length === 1) return [{ url: parsed.url, name, id: withoutQuery(parsed.url) }];
    // The other parts sit beside the first, with the same query (a signed URL's, say).
    return parts.map((part) => {
      const url = new URL(encodeURIComponent(part), parsed.url);
      url.search = parsed.url.search;
      return { url, name: part, id: withoutQuery(url) };
    });
  }
  const refused = checkProtocol(hub, allowHttp);
  if (refused !== undefined) throw new LlamaError('INVALID_OPTION', `HF_ENDPOINT ${hub.href}: ${refused}`);
  let path: string;
  if (parsed.kind === 'hub-file') {
    path = parsed.path;
  } else {
    const listing = await requestJson(request(hubRepoUrl(hub, parsed.repo)));
    const siblings = (listing as { siblings?: unknown } | null)?.siblings;
    if (!Array.isArray(siblings)) {
      throw new LlamaError('DOWNLOAD_FAILED', `the hub's description of ${parsed.repo} has no file list`);
    }
    const names = siblings
      .map((entry: unknown) => (entry as { rfilename?: unknown } | null)?.rfilename)
      .filter((name): name is string => typeof name === 'string');
    path = chooseQuant(names, parsed.quant, parsed.repo);
  }
  const folder = path.slice(0, path.lastIndexOf('/') + 1);
  return splitParts(baseName(path)).map((part) => ({
    url: hubFileUrl(hub, parsed.repo, folder + part),
    name: checkFileName(part, source),
    id: `hf:${parsed.repo}/${folder}${part}`,
  }));
}

/**
 * Whether the file at `path` is already the one wanted: its record (see {@link Verified}) when the
 * file is unchanged since; else its SHA-256, the given one or the server's, or, none known, its size.
 */
async function alreadyThere(
  path: string,
  id: string,
  target: RequestTarget,
  sha256: string | undefined,
): Promise<boolean> {
  const stats = await stat(path).catch(() => undefined);
  if (stats === undefined || !stats.isFile()) return false;
  const { size, mtimeMs } = stats;
  const known = await recorded(path);
  if (known !== undefined && known.size === size && known.mtimeMs === mtimeMs) {
    if (sha256 !== undefined ? known.sha256 === sha256 : known.source === id) return true;
  }
  const wanted = sha256 === undefined ? await probe(target) : { sha256 };
  let actual: string | undefined;
  if (wanted.sha256 !== undefined) {
    const hash = createHash('sha256');
    await hashFile(path, hash, target.signal);
    actual = hash.digest('hex');
    if (actual !== wanted.sha256) return false;
  } else if (wanted.size !== size) {
    return false;
  }
  try {
    await readGgufHeader(path, { arrays: false });
  } catch (error) {
    if (error instanceof GgufFormatError) return false;
    throw error;
  }
  if (actual === undefined) {
    const hash = createHash('sha256');
    await hashFile(path, hash, target.signal);
    actual = hash.digest('hex');
  }
  await remember(path, id, actual);
  return true;
}

/** Calls `onProgress` at most every PROGRESS_INTERVAL_MS per file, and always as a file completes. */
function throttled(
  onProgress: ((progress: DownloadProgress) => void) | undefined,
  file: string,
  fileIndex: number,
  fileCount: number,
) {
  if (onProgress === undefined) return undefined;
  let last = 0;
  return (downloadedBytes: number, totalBytes: number | undefined, done: boolean) => {
    const now = performance.now();
    if (!done && last !== 0 && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    onProgress({ file, fileIndex, fileCount, downloadedBytes, totalBytes, done });
  };
}

/**
 * Downloads a GGUF model and resolves with its local path.
 *
 * `source` is an `https://` URL, `hf:OWNER/REPO/FILE.gguf` (a file of a Hugging Face repository,
 * in a folder of it or not), or `hf:OWNER/REPO:QUANT` (its GGUF file of that quantization, such as
 * `Q4_K_M`, case-insensitive; `hf:OWNER/REPO` alone means Q4_K_M). The hub is HF_ENDPOINT
 * (default https://huggingface.co); the token (option, else HF_TOKEN) goes to it only, not to the
 * hosts it redirects to.
 *
 * The file is written to `FILE.part` and renamed once complete, its size, SHA-256 and GGUF header
 * checked; a dropped connection resumes where it stopped (5 retries, backoff), and so does a later
 * call after an abort. A file already there is not fetched again: one this library verified and
 * that is unchanged since resolves without asking the server (offline too); another is checked
 * against the SHA-256 (given or published) or, none known, the size. A split model
 * (`NAME-00001-of-00003.gguf`) comes whole: the path is its first part's.
 *
 * Rejects with a LlamaError: `DOWNLOAD_FAILED` (an HTTP status, with a hint for a gated repository,
 * or a network failure), `CHECKSUM_MISMATCH` or `INVALID_MODEL_FILE` (the file is deleted),
 * `MODEL_NOT_FOUND` (no file of that quantization), `ABORTED`, `INVALID_OPTION`.
 *
 * ```ts
 * const path = await downloadModel('hf:ggml-org/models/tinyllamas/stories260K.gguf');
 * ```
 */
export async function downloadModel(source: string, options: DownloadOptions = {}): Promise<string> {
  if (typeof source !== 'string' || source === '') {
    throw new LlamaError('INVALID_ARGUMENT', 'source must be a non-empty string');
  }
  const opts = optionsObject<DownloadOptions>('options', options);
  rejectUnknown('downloadModel options', opts, DOWNLOAD_OPTIONS);
  if (opts.dir !== undefined && (typeof opts.dir !== 'string' || opts.dir === '')) {
    invalidOption('dir', 'a non-empty string', opts.dir);
  }
  if (opts.sha256 !== undefined && (typeof opts.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(opts.sha256))) {
    invalidOption('sha256', '64 hexadecimal digits', opts.sha256);
  }
  if (opts.token !== undefined && (typeof opts.token !== 'string' || opts.token === '')) {
    // The token itself is never repeated in a message.
    throw new LlamaError('INVALID_OPTION', 'token must be a non-empty string');
  }
  const onProgress = optionalFunction<(progress: DownloadProgress) => void>('onProgress', opts.onProgress);
  const signal = optionalSignal('signal', opts.signal);
  const allowHttp = optionalBoolean('allowHttp', opts.allowHttp) ?? false;
  if (signal?.aborted) throw new LlamaError('ABORTED', 'the download was aborted');

  const hub = hubEndpoint();
  const token = opts.token ?? (process.env.HF_TOKEN || undefined);
  const request = (url: URL): RequestTarget => {
    const isHub = url.origin === hub.origin;
    return { url, hub: isHub, token: isHub ? token : undefined, allowHttp, signal };
  };
  const parsed = parseSource(source, allowHttp);
  const files = await modelFiles(source, parsed, allowHttp, hub, request);
  const sha256 = opts.sha256?.toLowerCase();
  if (sha256 !== undefined && files.length > 1) {
    throw new LlamaError('INVALID_OPTION', `sha256 names one file, and ${source} is a model in ${files.length} parts`);
  }
  // In the default folder a hub file goes under OWNER/REPO/: two repositories' files of one name
  // (ggml-model-Q4_K_M.gguf, say) must not take each other's place.
  const dir = resolve(opts.dir ?? (parsed.kind === 'url' ? defaultModelsDir() : join(defaultModelsDir(), parsed.repo)));
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new LlamaError('DOWNLOAD_FAILED', `cannot create ${dir}: ${(error as Error).message}`, { cause: error });
  }
  for (const [index, file] of files.entries()) {
    const path = join(dir, file.name);
    const target = request(file.url);
    const report = throttled(onProgress, file.name, index, files.length);
    await exclusive(path, async () => {
      if (await alreadyThere(path, file.id, target, sha256)) {
        const { size } = await stat(path);
        report?.(size, size, true);
        return;
      }
      await remember(path, file.id, await fetchFile({ ...target, path, sha256, onBytes: report }));
    });
  }
  return join(dir, files[0]!.name);
}
