// LlamaModel.load('hf:…') and LocalProvider on an `hf:` model end to end: the real trained model
// ../shared/models/stories260K.gguf served by a local stand-in for the hub (HF_ENDPOINT), downloaded
// into LLAMA_NAPI_MODELS, loaded, and generating exactly what the file loaded by path generates.
// Skipped, with a message, where the file is absent.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { JobPostingSchema, LlamaModel, LocalProvider, type DownloadProgress } from '../../lib/index.js';
import { HubServer, sha256Of } from '../fixtures/hub-server.js';
import { haveStories, storiesPath, storiesSkipMessage } from '../fixtures/paths.js';

if (!haveStories) console.warn(storiesSkipMessage);

describe.skipIf(!haveStories)('an hf: model, downloaded on first use (stories260K)', () => {
  let hub: HubServer;
  let dir: string;
  const saved = { ...process.env };
  beforeAll(async () => {
    hub = await HubServer.start();
    hub.add('ggml-org/models', 'tinyllamas/stories260K.gguf', { body: readFileSync(storiesPath) });
    dir = mkdtempSync(join(tmpdir(), 'llama-napi-e2e-dl-'));
    process.env.HF_ENDPOINT = hub.url;
    process.env.LLAMA_NAPI_MODELS = dir;
    delete process.env.HF_TOKEN;
  });
  afterAll(async () => {
    await hub.close();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  test('LlamaModel.load(hf:…) generates the tokens the file loaded by path does', async () => {
    const prompt = 'Once upon a time';
    const options = { temperature: 0, maxTokens: 12 };
    let expected: number[];
    {
      await using byPath = await LlamaModel.load(storiesPath, { contextSize: 128, threads: 1 });
      expected = (await byPath.generate(prompt, options)).tokens;
    }
    const seen: DownloadProgress[] = [];
    await using model = await LlamaModel.load('hf:ggml-org/models/tinyllamas/stories260K.gguf', {
      contextSize: 128,
      threads: 1,
      onDownloadProgress: (progress) => seen.push(progress),
    });
    const folder = join(dir, 'ggml-org', 'models'); // the default folder's place for the repository
    expect(model.path).toBe(join(folder, 'stories260K.gguf'));
    expect(sha256Of(readFileSync(model.path))).toBe(sha256Of(readFileSync(storiesPath)));
    expect(readdirSync(folder)).toEqual(['.stories260K.gguf.json', 'stories260K.gguf']);
    expect(seen.at(-1)).toMatchObject({ file: 'stories260K.gguf', done: true });
    const result = await model.generate(prompt, options);
    expect(result.tokens).toHaveLength(12);
    expect(result.tokens).toEqual(expected);
  });

  test('LocalProvider takes an hf: modelPath (here already downloaded: no request at all)', async () => {
    hub.reset();
    const provider = new LocalProvider({
      modelPath: 'hf:ggml-org/models/tinyllamas/stories260K.gguf',
      temperature: 0,
      contextSize: 4096,
      sequences: 1,
    });
    try {
      const job = await provider.parseJob('Data engineer at Acme, remote, Python and SQL.');
      expect(JobPostingSchema.parse(job)).toEqual(job);
    } finally {
      await provider.unload();
    }
    expect(hub.requests).toEqual([]);
  }, 180_000);
});
