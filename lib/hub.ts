// Where a model comes from: a downloadModel() source parsed and checked (an https URL or an `hf:`
// reference to the Hugging Face hub), the hub's endpoint and token, the choice of a file by its
// quantization, split models' parts, and the folder downloads go to by default.
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

import { LlamaError } from './errors.js';

/** A parsed source: one file's URL, or a hub repository and the quantization to choose from it. */
export type Source =
  | { kind: 'url'; url: URL }
  | { kind: 'hub-file'; repo: string; path: string }
  | { kind: 'hub-quant'; repo: string; quant: string };

/** Hub owner and repository names: letters, digits, `-`, `_`, `.`, not starting with `.` or `-`. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const QUANT = /^[A-Za-z0-9_]+$/;
/** Split GGUF models (llama.cpp's gguf-split): `NAME-00001-of-00003.gguf`. */
const SPLIT = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;
/** llama.cpp's default quantization for `-hf OWNER/REPO`, used here for `hf:OWNER/REPO` too. */
const DEFAULT_QUANT = 'Q4_K_M';

const SOURCE_FORMS = 'an https:// URL, hf:OWNER/REPO/FILE.gguf or hf:OWNER/REPO:QUANT';

function badSource(source: string, why: string): never {
  throw new LlamaError('INVALID_OPTION', `source ${JSON.stringify(source)} ${why} (expected ${SOURCE_FORMS})`);
}

/** Whether `source` names a remote model (`hf:`, `https://`, `http://`) rather than a local path. */
export function isRemoteSource(source: string): boolean {
  return /^(hf:|https?:\/\/)/i.test(source);
}

/**
 * Checks a local file name taken from a source: a plain name (no separator, not `.` or `..`)
 * ending in `.gguf`, so a download can never write outside its folder.
 */
export function checkFileName(name: string, source: string): string {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name) || name.includes('..')) {
    badSource(source, `names the file ${JSON.stringify(name)}, which is not a plain file name`);
  }
  if (!name.toLowerCase().endsWith('.gguf')) badSource(source, `names ${JSON.stringify(name)}, not a .gguf file`);
  return name;
}

/** Whether `url` may be fetched: https, or http on a loopback host (or anywhere when allowed). */
export function checkProtocol(url: URL, allowHttp: boolean): string | undefined {
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return `${url.protocol} URLs are not fetched`;
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  return loopback || allowHttp ? undefined : `plain http to ${url.host} is refused (use https, or allowHttp: true)`;
}

/** Parses and checks a downloadModel() source; throws INVALID_OPTION naming what is wrong. */
export function parseSource(source: string, allowHttp: boolean): Source {
  if (/^hf:/i.test(source)) return parseHubSource(source);
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    badSource(source, 'is not a URL');
  }
  const refused = checkProtocol(url, allowHttp);
  if (refused !== undefined) badSource(source, refused);
  if (url.username !== '' || url.password !== '') badSource(source, 'has credentials in it: pass token instead');
  const segment = url.pathname.split('/').pop() ?? '';
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    badSource(source, 'has a file name that does not decode');
  }
  checkFileName(name, source);
  return { kind: 'url', url };
}

function parseHubSource(source: string): Source {
  const rest = source.slice(3);
  const quantAt = rest.indexOf(':');
  const reference = quantAt === -1 ? rest : rest.slice(0, quantAt);
  const segments = reference.split('/');
  const [owner = '', name = '', ...path] = segments;
  if (!NAME.test(owner) || !NAME.test(name) || owner.includes('..') || name.includes('..')) {
    badSource(source, 'does not name a repository as OWNER/REPO');
  }
  const repo = `${owner}/${name}`;
  if (quantAt !== -1) {
    const quant = rest.slice(quantAt + 1);
    if (path.length > 0) badSource(source, 'names both a file and a quantization');
    if (!QUANT.test(quant)) badSource(source, `has ${JSON.stringify(quant)} where a quantization such as Q4_K_M goes`);
    return { kind: 'hub-quant', repo, quant };
  }
  if (path.length === 0) return { kind: 'hub-quant', repo, quant: DEFAULT_QUANT };
  for (const segment of path.slice(0, -1)) {
    if (segment === '' || segment === '.' || segment === '..' || segment.includes('\\')) {
      badSource(source, `has the folder ${JSON.stringify(segment)} in its path`);
    }
  }
  checkFileName(path[path.length - 1]!, source);
  return { kind: 'hub-file', repo, path: path.join('/') };
}

/** The hub's base URL: HF_ENDPOINT, else https://huggingface.co. */
export function hubEndpoint(): URL {
  const value = process.env.HF_ENDPOINT || 'https://huggingface.co';
  try {
    return new URL(value.endsWith('/') ? value : `${value}/`);
  } catch {
    throw new LlamaError('INVALID_OPTION', `HF_ENDPOINT ${JSON.stringify(value)} is not a URL`);
  }
}

/** The URL of a file of a hub repository (its main branch). */
export function hubFileUrl(endpoint: URL, repo: string, path: string): URL {
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  return new URL(`${repo}/resolve/main/${encoded}`, endpoint);
}

/** The URL of the hub's description of a repository (its file list is `siblings`). */
export function hubRepoUrl(endpoint: URL, repo: string): URL {
  return new URL(`api/models/${repo}`, endpoint);
}

/**
 * A URL without its query: what names a file (a signed URL's signature changes, the file does
 * not), and what messages show (the query of a signed URL holds its credentials).
 */
export function withoutQuery(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** The base name of a repository path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Chooses the GGUF file of quantization `quant` (case-insensitive, a whole word of the name) among
 * a repository's files; a split model is its first part. None, or two different models, is an
 * error that lists what the repository has.
 */
export function chooseQuant(files: readonly string[], quant: string, repo: string): string {
  // Q4_K must not choose Q4_K_M, nor Q4_XS choose IQ4_XS.
  const word = new RegExp(`(?<![A-Za-z0-9])${quant}(?![A-Za-z0-9_])`, 'i');
  const ggufs = files.filter((file) => file.toLowerCase().endsWith('.gguf') && !/mmproj/i.test(baseName(file)));
  const models = new Set<string>();
  for (const file of ggufs.filter((file) => word.test(file.replace(/-\d{5}-of-\d{5}\.gguf$/i, '.gguf')))) {
    const split = SPLIT.exec(file);
    models.add(split === null ? file : `${split[1]}-00001-of-${split[3]}.gguf`);
  }
  if (models.size === 1) return [...models][0]!;
  if (models.size > 1) {
    throw new LlamaError(
      'INVALID_OPTION',
      `${repo} has more than one ${quant} model (${[...models].join(', ')}): name the file, as hf:${repo}/FILE.gguf`,
    );
  }
  const known = new Set<string>();
  for (const file of ggufs) {
    // The quantization is the last word of most names: MODEL-Q4_K_M.gguf, MODEL.Q8_0.gguf.
    const match = /[-.]([A-Za-z0-9_]+)$/.exec(baseName(file).replace(/(-\d{5}-of-\d{5})?\.gguf$/i, ''));
    if (match) known.add(match[1]!.toUpperCase());
  }
  throw new LlamaError(
    'MODEL_NOT_FOUND',
    `${repo} has no ${quant} GGUF file` +
      (known.size > 0 ? ` (it has ${[...known].join(', ')})` : ggufs.length === 0 ? ' (it has no GGUF file)' : ''),
  );
}

/** The parts of a split model from the name of any of them (one name when it is not split). */
export function splitParts(name: string): string[] {
  const split = SPLIT.exec(name);
  if (split === null) return [name];
  const count = Number(split[3]);
  if (count === 0 || Number(split[2]) > count) return [name];
  return Array.from({ length: count }, (_, i) => `${split[1]}-${String(i + 1).padStart(5, '0')}-of-${split[3]}.gguf`);
}

/**
 * Where models are downloaded by default: LLAMA_NAPI_MODELS, else the platform's cache folder
 * (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on
 * Windows) under `llama-napi/models`.
 */
export function defaultModelsDir(): string {
  const env = process.env;
  if (env.LLAMA_NAPI_MODELS) return env.LLAMA_NAPI_MODELS;
  if (process.platform === 'win32') {
    return join(env.LOCALAPPDATA || join(homedir(), 'AppData', 'Local'), 'llama-napi', 'models');
  }
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'llama-napi', 'models');
  // XDG: a relative value is invalid and is ignored.
  const cache = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(cache, 'llama-napi', 'models');
}
