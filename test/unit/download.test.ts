// downloadModel() against a local stand-in for the Hugging Face hub (test/fixtures/hub-server.ts):
// what arrives is byte for byte the source (its SHA-256), resumes ask for the bytes they lack,
// failures leave no file that could pass for the model, and the token reaches the hub alone.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';

import {
  defaultModelsDir,
  downloadModel,
  LlamaError,
  LlamaModel,
  LocalProvider,
  type DownloadProgress,
} from '../../lib/index.js';
import { RETRY } from '../../lib/transfer.js';
import { ggufBytes, HUB_TOKEN, HubServer, sha256Of } from '../fixtures/hub-server.js';

let hub: HubServer;
let dir: string;
const saved = { ...process.env };

beforeAll(async () => {
  hub = await HubServer.start();
  process.env.HF_ENDPOINT = hub.url;
  delete process.env.HF_TOKEN;
  delete process.env.LLAMA_NAPI_MODELS;
});
afterAll(async () => {
  await hub.close();
  process.env = saved;
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llama-napi-dl-'));
  hub.reset();
  RETRY.baseDelayMs = 20;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const fileSha = (path: string) => sha256Of(readFileSync(path));
/** The error a promise rejects with (the test fails if it resolves). */
async function failure(promise: Promise<unknown>): Promise<LlamaError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LlamaError);
  return error as LlamaError;
}

describe('downloadModel: hf: sources', () => {
  test('hf:OWNER/REPO/FILE.gguf arrives whole, verified, without a .part, with progress', async () => {
    const body = ggufBytes(1, 256 * 1024);
    hub.add('acme/tiny', 'tiny.gguf', { body });
    const seen: DownloadProgress[] = [];
    const path = await downloadModel('hf:acme/tiny/tiny.gguf', { dir, onProgress: (p) => seen.push({ ...p }) });
    expect(path).toBe(join(dir, 'tiny.gguf'));
    expect(fileSha(path)).toBe(sha256Of(body));
    // The file and the record of its verification (see the test of a file already there).
    expect(readdirSync(dir)).toEqual(['.tiny.gguf.json', 'tiny.gguf']);
    expect(seen.at(-1)).toEqual({
      file: 'tiny.gguf',
      fileIndex: 0,
      fileCount: 1,
      downloadedBytes: body.length,
      totalBytes: body.length,
      done: true,
    });
    expect(seen.filter((p) => p.done)).toHaveLength(1);
    // The hub's 302 led to the CDN path, asked once, in full.
    expect(hub.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', '/acme/tiny/resolve/main/tiny.gguf', 302],
      ['GET', '/cdn/0', 200],
    ]);
  });

  test('a file in a folder of the repository lands under its own name', async () => {
    const body = ggufBytes(2);
    hub.add('acme/deep', 'sub/dir/deep.gguf', { body });
    const path = await downloadModel('hf:acme/deep/sub/dir/deep.gguf', { dir });
    expect(path).toBe(join(dir, 'deep.gguf'));
    expect(fileSha(path)).toBe(sha256Of(body));
    expect(hub.requests[0]?.path).toBe('/acme/deep/resolve/main/sub/dir/deep.gguf');
  });

  test(':Q4_K_M chooses that quantization from the file list (case-insensitive)', async () => {
    const q4 = ggufBytes(3);
    hub.add('acme/quants', 'README.md', { body: Buffer.from('# readme') });
    hub.add('acme/quants', 'model-Q4_K_S.gguf', { body: ggufBytes(4) });
    hub.add('acme/quants', 'model-Q4_K_M.gguf', { body: q4 });
    hub.add('acme/quants', 'model-IQ4_K_M.gguf', { body: ggufBytes(5) });
    hub.add('acme/quants', 'mmproj-model-Q4_K_M.gguf', { body: ggufBytes(6) });
    hub.add('acme/quants', 'model-Q8_0.gguf', { body: ggufBytes(7) });
    const path = await downloadModel('hf:acme/quants:q4_k_m', { dir });
    expect(path).toBe(join(dir, 'model-Q4_K_M.gguf'));
    expect(fileSha(path)).toBe(sha256Of(q4));
    expect(hub.requests[0]?.path).toBe('/api/models/acme/quants');

    const missing = await failure(downloadModel('hf:acme/quants:Q5_K_S', { dir }));
    expect(missing.code).toBe('MODEL_NOT_FOUND');
    expect(missing.message).toContain('acme/quants has no Q5_K_S GGUF file (it has Q4_K_S, Q4_K_M, IQ4_K_M, Q8_0)');
    const noRepo = await failure(downloadModel('hf:acme/nothing:Q4_K_M', { dir }));
    expect(noRepo.code).toBe('DOWNLOAD_FAILED');
    expect(noRepo.message).toContain('404');
  });

  test('a split model fetches every part and returns the first', async () => {
    const parts = [ggufBytes(10), ggufBytes(11), ggufBytes(12)];
    for (const [i, body] of parts.entries())
      hub.add('acme/split', `Q8_0/big-Q8_0-0000${i + 1}-of-00003.gguf`, { body });
    hub.add('acme/split', 'big-F16.gguf', { body: ggufBytes(13) });
    const seen = new Set<string>();
    const path = await downloadModel('hf:acme/split:Q8_0', {
      dir,
      onProgress: (p) => seen.add(`${p.fileIndex}/${p.fileCount} ${p.file}`),
    });
    expect(path).toBe(join(dir, 'big-Q8_0-00001-of-00003.gguf'));
    for (const [i, body] of parts.entries()) {
      expect(fileSha(join(dir, `big-Q8_0-0000${i + 1}-of-00003.gguf`))).toBe(sha256Of(body));
    }
    expect([...seen]).toEqual([
      '0/3 big-Q8_0-00001-of-00003.gguf',
      '1/3 big-Q8_0-00002-of-00003.gguf',
      '2/3 big-Q8_0-00003-of-00003.gguf',
    ]);

    // Naming any part directly fetches the model whole too (here: already there, nothing moves).
    hub.reset();
    expect(await downloadModel('hf:acme/split/Q8_0/big-Q8_0-00002-of-00003.gguf', { dir })).toBe(path);
    expect(hub.bodyRequests()).toEqual([]);
  });
});

describe('downloadModel: resuming', () => {
  test('a connection dropped halfway resumes with Range: bytes=N- and moves only the rest', async () => {
    const body = ggufBytes(20, 512 * 1024);
    const half = 200_000;
    hub.add('acme/flaky', 'flaky.gguf', { body, dropAfter: half });
    const path = await downloadModel('hf:acme/flaky/flaky.gguf', { dir });
    expect(fileSha(path)).toBe(sha256Of(body));
    const bodies = hub.bodyRequests();
    expect(bodies.map((r) => [r.range, r.status, r.bytes])).toEqual([
      [undefined, 200, half],
      [`bytes=${half}-`, 206, body.length - half],
    ]);
    const moved = bodies.reduce((sum, r) => sum + r.bytes, 0);
    expect(moved).toBe(body.length);
    expect(bodies[1]!.bytes).toBeLessThan(body.length);
    console.log(
      `resume: ${bodies.map((r) => `GET ${r.path} range=${r.range ?? '-'}: ${r.status}, ${r.bytes} bytes`).join('; ')}`,
    );
  });

  test('a .part an earlier call left is hashed and continued, not fetched again', async () => {
    const body = ggufBytes(21, 256 * 1024);
    hub.add('acme/part', 'part.gguf', { body });
    const kept = 100_000;
    writeFileSync(join(dir, 'part.gguf.part'), body.subarray(0, kept));
    const path = await downloadModel('hf:acme/part/part.gguf', { dir });
    expect(fileSha(path)).toBe(sha256Of(body));
    expect(hub.bodyRequests().map((r) => [r.range, r.status, r.bytes])).toEqual([
      [`bytes=${kept}-`, 206, body.length - kept],
    ]);
    expect(existsSync(`${path}.part`)).toBe(false);
  });

  test('a server that answers 200 to a Range request is read from byte 0', async () => {
    const body = ggufBytes(22, 256 * 1024);
    hub.add('acme/norange', 'norange.gguf', { body, ignoreRange: true });
    writeFileSync(join(dir, 'norange.gguf.part'), body.subarray(0, 50_000));
    const path = await downloadModel('hf:acme/norange/norange.gguf', { dir });
    expect(fileSha(path)).toBe(sha256Of(body));
    expect(hub.bodyRequests().map((r) => [r.range, r.status, r.bytes])).toEqual([['bytes=50000-', 200, body.length]]);
  });

  test('a file already there and right is not fetched again', async () => {
    const body = ggufBytes(23);
    hub.add('acme/cached', 'cached.gguf', { body });
    const path = await downloadModel('hf:acme/cached/cached.gguf', { dir });
    const record = join(dir, '.cached.gguf.json');
    expect(JSON.parse(readFileSync(record, 'utf8'))).toMatchObject({
      source: 'hf:acme/cached/cached.gguf',
      sha256: sha256Of(body),
      size: body.length,
    });
    hub.reset();
    // Verified by this library and unchanged since: nothing is asked at all (offline too).
    expect(await downloadModel('hf:acme/cached/cached.gguf', { dir })).toBe(path);
    expect(hub.requests).toEqual([]);
    // A file without the record (put there by hand): the hub's published SHA-256 (a HEAD of
    // resolve/main, not followed to the CDN) matches it.
    rmSync(record);
    hub.reset();
    expect(await downloadModel('hf:acme/cached/cached.gguf', { dir })).toBe(path);
    expect(hub.requests.map((r) => [r.method, r.path])).toEqual([['HEAD', '/acme/cached/resolve/main/cached.gguf']]);
    expect(existsSync(record)).toBe(true);
    // With sha256 given, nothing is asked at all.
    hub.reset();
    expect(await downloadModel('hf:acme/cached/cached.gguf', { dir, sha256: sha256Of(body).toUpperCase() })).toBe(path);
    expect(hub.requests).toEqual([]);
    // Verified once, a file is trusted in this process while its size and mtime stay (no hashing).
    const time = 1_700_000_000;
    utimesSync(path, time, time);
    await downloadModel('hf:acme/cached/cached.gguf', { dir, sha256: sha256Of(body) });
    const altered = Buffer.from(body);
    altered.writeUInt8(altered.readUInt8(altered.length - 1) ^ 0xff, altered.length - 1);
    writeFileSync(path, altered);
    utimesSync(path, time, time);
    expect(await downloadModel('hf:acme/cached/cached.gguf', { dir, sha256: sha256Of(body) })).toBe(path);
    expect(fileSha(path)).toBe(sha256Of(altered));
    // A file of that name that is not the hub's is replaced.
    writeFileSync(path, ggufBytes(99));
    hub.reset();
    await downloadModel('hf:acme/cached/cached.gguf', { dir });
    expect(fileSha(path)).toBe(sha256Of(body));
    expect(hub.bodyRequests()).toHaveLength(1);
  });

  test('a downloaded model resolves with the hub gone; an unverified file then fails to check', async () => {
    const body = ggufBytes(25);
    hub.add('acme/offline', 'offline.gguf', { body });
    const path = await downloadModel('hf:acme/offline/offline.gguf', { dir });
    // A port nothing listens on: every request is refused.
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const { port } = closed.address() as AddressInfo;
    await new Promise((done) => closed.close(done));
    process.env.HF_ENDPOINT = `http://127.0.0.1:${port}`;
    RETRY.baseDelayMs = 1;
    try {
      expect(await downloadModel('hf:acme/offline/offline.gguf', { dir })).toBe(path);
      rmSync(join(dir, '.offline.gguf.json'));
      const error = await failure(downloadModel('hf:acme/offline/offline.gguf', { dir }));
      expect(error.code).toBe('DOWNLOAD_FAILED');
      expect(fileSha(path)).toBe(sha256Of(body)); // the file stays
    } finally {
      process.env.HF_ENDPOINT = hub.url;
    }
  });

  test('an abort stops at once and keeps the .part; the next call resumes it', async () => {
    const body = ggufBytes(24, 1024 * 1024);
    hub.add('acme/abort', 'abort.gguf', { body, pieceDelayMs: 10 });
    const controller = new AbortController();
    const error = await failure(
      downloadModel('hf:acme/abort/abort.gguf', {
        dir,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.downloadedBytes > 100_000) controller.abort();
        },
      }),
    );
    expect(error.code).toBe('ABORTED');
    const part = join(dir, 'abort.gguf.part');
    expect(existsSync(part)).toBe(true);
    const kept = readFileSync(part).length;
    expect(kept).toBeGreaterThan(0);
    expect(readFileSync(part).equals(body.subarray(0, kept))).toBe(true);
    hub.reset();
    const path = await downloadModel('hf:acme/abort/abort.gguf', { dir });
    expect(fileSha(path)).toBe(sha256Of(body));
    expect(hub.bodyRequests().map((r) => r.range)).toEqual([`bytes=${kept}-`]);
  });

  test('retries are bounded, back off, and an abort ends the wait at once', async () => {
    hub.add('acme/down', 'down.gguf', { body: ggufBytes(25), failWith: 503 });
    const error = await failure(downloadModel('hf:acme/down/down.gguf', { dir }));
    expect(error.code).toBe('DOWNLOAD_FAILED');
    expect(error.message).toContain('HTTP 503');
    expect(error.message).toContain('after 5 retries');
    expect(hub.bodyRequests()).toHaveLength(1 + RETRY.attempts);

    RETRY.baseDelayMs = 60_000;
    hub.reset();
    const controller = new AbortController();
    const started = performance.now();
    const pending = downloadModel('hf:acme/down/down.gguf', { dir, signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    expect((await failure(pending)).code).toBe('ABORTED');
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(hub.bodyRequests()).toHaveLength(1);
  });
});

describe('downloadModel: failures', () => {
  test('a gated file: 401 without the token (a hint, no token), the file with it; the CDN never sees it', async () => {
    const body = ggufBytes(30);
    hub.add('acme/gated', 'gated.gguf', { body, gated: true });
    const refused = await failure(downloadModel('hf:acme/gated/gated.gguf', { dir }));
    expect(refused.code).toBe('DOWNLOAD_FAILED');
    expect(refused.message).toMatch(/HTTP 401.*gated or private: set HF_TOKEN/);

    const wrong = await failure(downloadModel('hf:acme/gated/gated.gguf', { dir, token: 'hf_wrong_token_abc' }));
    expect(wrong.message).toContain('HTTP 401');
    expect(wrong.message).toContain('the token has no access');
    expect(`${wrong.message} ${wrong.stack} ${String(wrong.cause)}`).not.toContain('hf_wrong_token_abc');

    hub.reset();
    const path = await downloadModel('hf:acme/gated/gated.gguf', { dir, token: HUB_TOKEN });
    expect(fileSha(path)).toBe(sha256Of(body));
    expect(hub.requests[0]).toMatchObject({ path: '/acme/gated/resolve/main/gated.gguf', status: 302 });
    expect(hub.requests[0]?.authorization).toBe(`Bearer ${HUB_TOKEN}`);
    expect(hub.bodyRequests().length).toBeGreaterThan(0);
    for (const request of hub.bodyRequests()) expect(request.authorization).toBeUndefined();

    // HF_TOKEN is the default.
    rmSync(path);
    process.env.HF_TOKEN = HUB_TOKEN;
    try {
      expect(fileSha(await downloadModel('hf:acme/gated/gated.gguf', { dir }))).toBe(sha256Of(body));
    } finally {
      delete process.env.HF_TOKEN;
    }
  });

  test('a redirect to plain http on another host is refused', async () => {
    hub.add('acme/moved', 'moved.gguf', { body: ggufBytes(34), redirectTo: 'http://cdn.example.invalid/x.gguf' });
    const error = await failure(downloadModel('hf:acme/moved/moved.gguf', { dir }));
    expect(error.code).toBe('DOWNLOAD_FAILED');
    expect(error.message).toContain('a redirect to cdn.example.invalid: plain http to cdn.example.invalid is refused');
    expect(readdirSync(dir)).toEqual([]);
  });

  test('404 is DOWNLOAD_FAILED with its status, and leaves nothing', async () => {
    hub.add('acme/some', 'there.gguf', { body: ggufBytes(31) });
    const error = await failure(downloadModel('hf:acme/some/missing.gguf', { dir }));
    expect(error.code).toBe('DOWNLOAD_FAILED');
    expect(error.message).toContain('HTTP 404');
    expect(error.message).toContain('/acme/some/resolve/main/missing.gguf');
    expect(readdirSync(dir)).toEqual([]);
    // A signed URL's query (its credentials) is not repeated.
    const signed = await failure(downloadModel(`${hub.url}/files/gone.gguf?X-Amz-Signature=s3cr3t`, { dir }));
    expect(signed.code).toBe('DOWNLOAD_FAILED');
    expect(signed.message).toContain(`${hub.url}/files/gone.gguf?…`);
    expect(signed.message).not.toContain('s3cr3t');
  });

  test('a wrong SHA-256 (given or published) is CHECKSUM_MISMATCH, and no file or .part stays', async () => {
    const body = ggufBytes(32);
    hub.add('acme/sums', 'given.gguf', { body });
    const given = await failure(downloadModel('hf:acme/sums/given.gguf', { dir, sha256: '0'.repeat(64) }));
    expect(given.code).toBe('CHECKSUM_MISMATCH');
    expect(given.message).toContain(`its SHA-256 is ${sha256Of(body)}, sha256 expects ${'0'.repeat(64)}`);
    expect(readdirSync(dir)).toEqual([]);

    hub.add('acme/sums', 'published.gguf', { body, publishedSha256: 'ab'.repeat(32) });
    const published = await failure(downloadModel('hf:acme/sums/published.gguf', { dir }));
    expect(published.code).toBe('CHECKSUM_MISMATCH');
    expect(published.message).toContain(`the hub publishes ${'ab'.repeat(32)}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('an HTML page instead of the file is INVALID_MODEL_FILE, and leaves nothing', async () => {
    hub.add('acme/html', 'page.gguf', { body: ggufBytes(33), html: true });
    const error = await failure(downloadModel('hf:acme/html/page.gguf', { dir }));
    expect(error.code).toBe('INVALID_MODEL_FILE');
    expect(error.message).toContain('is not a GGUF file (it begins "<!DOCTYPE html>');
    expect(readdirSync(dir)).toEqual([]);
  });

  test('sources and options that do not parse are INVALID_OPTION, before any request', async () => {
    for (const source of [
      'hf:acme',
      'hf:acme/',
      'hf:/repo/x.gguf',
      'hf:acme/repo/../x.gguf',
      'hf:acme/repo/sub//x.gguf',
      'hf:acme/repo/model.bin',
      'hf:acme/repo:Q4 K',
      'hf:acme/repo/x.gguf:Q4_K_M',
      'hf:ac me/repo/x.gguf',
      'https://example.com/models/',
      'https://example.com/models/readme.txt',
      'https://example.com/a%2F..%2Fb.gguf',
      'https://user:pass@example.com/m.gguf',
      'http://example.com/m.gguf',
      'ftp://example.com/m.gguf',
      'models/m.gguf',
    ]) {
      const error = await failure(downloadModel(source, { dir }));
      expect([source, error.code]).toEqual([source, 'INVALID_OPTION']);
    }
    for (const options of [{ sha256: 'abc' }, { dir: '' }, { onProgress: 1 }, { allowHttp: 'yes' }, { nope: 1 }]) {
      const error = await failure(downloadModel('hf:acme/x/x.gguf', { dir, ...options } as never));
      expect(error.code).toBe('INVALID_OPTION');
    }
    expect((await failure(downloadModel(42 as never))).code).toBe('INVALID_ARGUMENT');
    const multi = await failure(downloadModel('hf:acme/x/m-00001-of-00002.gguf', { dir, sha256: 'a'.repeat(64) }));
    expect(multi.message).toContain('a model in 2 parts');
    const aborted = AbortSignal.abort();
    expect((await failure(downloadModel('hf:acme/x/x.gguf', { dir, signal: aborted }))).code).toBe('ABORTED');
    expect(hub.requests).toEqual([]);
  });
});

describe('LlamaModel.load and LocalProvider take hf: sources', () => {
  test('their download options are checked before any request', async () => {
    const bad = await failure(LlamaModel.load('hf:acme/x/x.gguf', { onDownloadProgress: 'no' as never }));
    expect(bad).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('onDownloadProgress') });
    const source = await failure(LlamaModel.load('hf:acme/../x.gguf'));
    expect(source.code).toBe('INVALID_OPTION');
    expect(() => new LocalProvider({ modelPath: 'hf:acme/x/x.gguf', onDownloadProgress: 1 as never })).toThrow(
      'onDownloadProgress must be a function',
    );
    expect(hub.requests).toEqual([]);
  });

  test("a failed download is the provider's MODEL_LOAD_FAILED, its cause the LlamaError", async () => {
    process.env.LLAMA_NAPI_MODELS = dir;
    const provider = new LocalProvider({ modelPath: 'hf:acme/none/none.gguf' });
    const error = await failure(provider.parseJob('Data engineer at Acme.')).finally(() => {
      delete process.env.LLAMA_NAPI_MODELS;
    });
    expect(error).toMatchObject({ name: 'AiProviderError', code: 'MODEL_LOAD_FAILED' });
    expect(error.message).toContain('HTTP 404');
    expect((error.cause as LlamaError).code).toBe('DOWNLOAD_FAILED');
  });
});

describe('downloadModel: URLs and folders', () => {
  test('an http URL on the loopback downloads without hub headers (size and GGUF checked)', async () => {
    const body = ggufBytes(40);
    hub.files.set('plain.gguf', { body, dropAfter: 10_000 });
    const path = await downloadModel(`${hub.url}/files/plain.gguf`, { dir });
    expect(fileSha(path)).toBe(sha256Of(body));
    expect(hub.bodyRequests().map((r) => r.range)).toEqual([undefined, 'bytes=10000-']);
    // Verified and unchanged: nothing is asked.
    hub.reset();
    await downloadModel(`${hub.url}/files/plain.gguf`, { dir });
    expect(hub.requests).toEqual([]);
    // Without the record, nothing is known but the size: a HEAD checks it, and the file stays.
    rmSync(join(dir, '.plain.gguf.json'));
    await downloadModel(`${hub.url}/files/plain.gguf`, { dir });
    expect(hub.requests.map((r) => r.method)).toEqual(['HEAD']);
    expect(fileSha(path)).toBe(sha256Of(body));
  });

  test('LLAMA_NAPI_MODELS, else the platform cache folder, is the default folder', async () => {
    process.env.LLAMA_NAPI_MODELS = dir;
    try {
      // A hub file goes under OWNER/REPO/ there, so two repositories' files of one name both fit.
      const [one, two] = [ggufBytes(41), ggufBytes(42)];
      hub.add('acme/env', 'model.gguf', { body: one });
      hub.add('other/env', 'model.gguf', { body: two });
      expect(defaultModelsDir()).toBe(dir);
      expect(await downloadModel('hf:acme/env/model.gguf')).toBe(join(dir, 'acme', 'env', 'model.gguf'));
      expect(await downloadModel('hf:other/env/model.gguf')).toBe(join(dir, 'other', 'env', 'model.gguf'));
      expect(fileSha(join(dir, 'acme', 'env', 'model.gguf'))).toBe(sha256Of(one));
      expect(fileSha(join(dir, 'other', 'env', 'model.gguf'))).toBe(sha256Of(two));
      // A URL's file goes into the folder itself.
      hub.files.set('url.gguf', { body: one });
      expect(await downloadModel(`${hub.url}/files/url.gguf`)).toBe(join(dir, 'url.gguf'));
    } finally {
      delete process.env.LLAMA_NAPI_MODELS;
    }
    if (process.platform === 'linux') {
      const xdg = process.env.XDG_CACHE_HOME;
      process.env.XDG_CACHE_HOME = '/var/cache/me';
      expect(defaultModelsDir()).toBe('/var/cache/me/llama-napi/models');
      delete process.env.XDG_CACHE_HOME;
      expect(defaultModelsDir()).toBe(join(homedir(), '.cache', 'llama-napi', 'models'));
      if (xdg !== undefined) process.env.XDG_CACHE_HOME = xdg;
    }
  });
});
