// ggml's RPC backend, the client side: LlamaModel.load(path, { rpcServers }) puts the model's layers
// on servers that startRpcServer() runs here, and gives the text the model gives locally. A server
// that is not there fails the load with a typed error; a server killed while the model is in use
// fails what was in flight (RPC_FAILED), the model says so until it is loaded again, and this
// process lives on.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';

import { addon } from '../../lib/binding.js';
import {
  LlamaError,
  LlamaModel,
  type RpcServer,
  listDevices,
  setLogLevel,
  setLogger,
  startRpcServer,
} from '../../lib/index.js';
import { random as prng } from '../fixtures/fuzz.js';
import { testModelPath } from '../fixtures/models.js';
import { llamaDebugLogits } from '../fixtures/oracle.js';
import { haveStories, repoRoot, storiesPath, storiesSkipMessage } from '../fixtures/paths.js';

const prompt = 'Once upon a time';
const KILLS = Number(process.env.LLAMA_NAPI_RPC_KILLS ?? 15);

/** A port nothing listens on (bound for a moment, then let go). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** The pid of the process serving `endpoint` (a child of this one). */
function serverPid(endpoint: string): number {
  const out = execFileSync('pgrep', ['-P', String(process.pid), '-f', `rpc-server-process.*"${endpoint}"`], {
    encoding: 'utf8',
  });
  const pids = out.trim().split('\n').filter(Boolean).map(Number);
  expect(pids).toHaveLength(1);
  return pids[0] as number;
}

/** Waits until the supervisor has started the server's process again and it accepts connections. */
async function restarted(server: RpcServer, before: number): Promise<void> {
  for (let i = 0; i < 400 && server.restarts === before; i++) await new Promise((r) => setTimeout(r, 25));
  expect(server.restarts).toBe(before + 1);
  const port = Number(server.endpoint.split(':')[1]);
  for (let i = 0; i < 400; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${server.endpoint} did not come back`);
}

/** The "model buffer size" lines llama.cpp logs while `load` runs. */
async function modelBuffers(load: () => Promise<LlamaModel>): Promise<{ model: LlamaModel; lines: string[] }> {
  const lines: string[] = [];
  setLogger((_level, message) => {
    if (message.includes('model buffer size')) lines.push(message);
  });
  setLogLevel('info');
  try {
    const model = await load();
    for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 10));
    return { model, lines };
  } finally {
    setLogger(null);
    setLogLevel('error');
  }
}

describe.skipIf(!haveStories)(`RPC client ${haveStories ? '' : storiesSkipMessage}`, () => {
  let first: RpcServer;
  let second: RpcServer;
  let local: string;
  beforeAll(async () => {
    [first, second] = await Promise.all([startRpcServer({ port: 0, threads: 1 }), startRpcServer({ port: 0 })]);
    const model = await LlamaModel.load(storiesPath, { contextSize: 256 });
    local = (await model.generate(prompt, { temperature: 0, maxTokens: 64 })).text;
    await model.dispose();
  });
  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
  });
  afterEach(() => {
    setLogger(null);
    setLogLevel('error');
  });

  test('split over one server and over two, greedy text is the local text, with the layers there', async () => {
    expect(local.length).toBeGreaterThan(100);
    for (const servers of [[first], [first, second]]) {
      const rpcServers = servers.map((server) => server.endpoint);
      const { model, lines } = await modelBuffers(() =>
        LlamaModel.load(storiesPath, { contextSize: 256, sequences: 2, rpcServers }),
      );
      try {
        expect(model.info.gpuLayers).toEqual({ offloaded: 6, total: 6 });
        for (const endpoint of rpcServers) expect(lines.some((line) => line.includes(`[${endpoint}]`))).toBe(true);
        const [a, b] = await Promise.all([
          model.generate(prompt, { temperature: 0, maxTokens: 64 }),
          model.generate(prompt, { temperature: 0, maxTokens: 64 }),
        ]);
        expect(a.text).toBe(local);
        expect(b.text).toBe(local);
      } finally {
        await model.dispose();
      }
    }
    // tensorSplit [1, 0]: every layer on the first server; gpuLayers 0: none on either.
    const rpcServers = [first.endpoint, second.endpoint];
    const split = await modelBuffers(() =>
      LlamaModel.load(storiesPath, { contextSize: 256, rpcServers, tensorSplit: [1, 0] }),
    );
    expect(split.lines.some((line) => line.includes(`[${first.endpoint}]`))).toBe(true);
    expect(split.lines.some((line) => line.includes(`[${second.endpoint}]`))).toBe(false);
    expect((await split.model.generate(prompt, { temperature: 0, maxTokens: 64 })).text).toBe(local);
    await split.model.dispose();
    const none = await modelBuffers(() => LlamaModel.load(storiesPath, { contextSize: 256, rpcServers, gpuLayers: 0 }));
    expect(none.lines.some((line) => line.includes('RPC'))).toBe(false);
    expect(none.model.info.gpuLayers).toEqual({ offloaded: 0, total: 6 });
    await none.model.dispose();
    // A model that does not name the servers never uses them.
    const plain = await modelBuffers(() => LlamaModel.load(storiesPath, { contextSize: 256 }));
    expect(plain.lines.some((line) => line.includes('RPC'))).toBe(false);
    await plain.model.dispose();
  });

  test("over RPC the model computes what llama.cpp's own client computes there", async () => {
    // ggml's server computes with its own kernels, so a model's logits over RPC can differ from
    // local ones in the last digits (llama-debug shows it too); ours over RPC equal llama-debug's
    // over RPC.
    const logprob = (logits: Float32Array, token: number) => {
      let max = Number.NEGATIVE_INFINITY;
      for (const value of logits) max = Math.max(max, value);
      let sum = 0;
      for (const value of logits) sum += Math.exp(value - max);
      return (logits[token] as number) - max - Math.log(sum);
    };
    const text = 'Once upon a time, there was a little dog named Max. Max liked to run in the park';
    for (const path of [storiesPath, testModelPath('spmF16'), testModelPath('spmQ8')]) {
      const theirs = llamaDebugLogits(path, text, ['--rpc', first.endpoint, '-ngl', '99']);
      const model = await LlamaModel.load(path, { contextSize: 256, rpcServers: [first.endpoint] });
      const result = await model.generate(text, { temperature: 0, maxTokens: 1, logprobs: 10 });
      await model.dispose();
      const top = result.logprobs?.[0]?.top ?? [];
      expect(top).toHaveLength(10);
      for (const entry of top) expect(Math.abs(entry.logprob - logprob(theirs, entry.token))).toBeLessThan(1e-5);
    }
  });

  test('two models on one server: disposing one leaves the other computing', async () => {
    const rpcServers = [first.endpoint];
    for (let round = 0; round < 3; round++) {
      const [a, b] = await Promise.all([
        LlamaModel.load(storiesPath, { contextSize: 256, rpcServers }),
        LlamaModel.load(storiesPath, { contextSize: 256, rpcServers }),
      ]);
      await b.generate(prompt, { temperature: 0, maxTokens: 8 });
      // b's buffers are freed while a decodes step after step (its graph recomputed on the server).
      const text = a.generate(prompt, { temperature: 0, maxTokens: 64 });
      await new Promise((r) => setTimeout(r, 5 + 5 * round));
      await b.dispose();
      expect((await text).text).toBe(local);
      await a.dispose();
    }
  });

  // As root, in a network namespace of its own, the loopback taken down mid-generation: the server
  // is gone without closing the connection. ggml's client would wait in recv for ever (still waiting
  // after 100 s without vendor/patches/rpc-keepalive.patch); the keepalive and user timeout end it.
  const isolated = spawnSync('unshare', ['-n', 'true']).status === 0;
  test.skipIf(!isolated)(
    'a server whose network is gone: RPC_FAILED within about 30 s',
    async () => {
      const script = join(repoRoot, 'test', 'fixtures', 'scripts', 'rpc-network-gone.mjs');
      const { stdout } = await promisify(execFile)('unshare', ['-n', process.execPath, script, storiesPath], {
        encoding: 'utf8',
        timeout: 150_000,
      });
      const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
      expect(result.code).toBe('RPC_FAILED');
      expect(result.seconds).toBeGreaterThan(20);
      expect(result.seconds).toBeLessThan(60);
      expect(result.text).toBe(local.slice(0, result.text.length));
      expect(result.text.length).toBeGreaterThan(20);
      console.log(`[rpc network gone] RPC_FAILED after ${result.seconds.toFixed(1)} s`);
    },
    180_000,
  );

  test("listDevices() lists the servers' devices with their memory", async () => {
    const before = await listDevices();
    expect(before.some((device) => device.backend === 'RPC')).toBe(false);
    const devices = await listDevices({ rpcServers: [first.endpoint, second.endpoint] });
    const remote = devices.filter((device) => device.backend === 'RPC');
    expect(remote.map((device) => device.description)).toEqual([first.endpoint, second.endpoint]);
    for (const device of remote) {
      expect(device.name).toMatch(/^RPC\d+$/);
      expect(device.type).toBe('gpu');
      expect(device.memoryTotal).toBeGreaterThan(0);
      expect(device.memoryFree).toBeGreaterThan(0);
    }
    const port = await freePort();
    await expect(listDevices({ rpcServers: [`127.0.0.1:${port}`] })).rejects.toMatchObject({
      code: 'RPC_FAILED',
      message: expect.stringContaining(`127.0.0.1:${port} is not reachable`),
    });
  });

  test('a server that is not there fails the load naming it; bad options are INVALID_OPTION', async () => {
    const port = await freePort();
    const missing = `127.0.0.1:${port}`;
    const error = await LlamaModel.load(storiesPath, { rpcServers: [first.endpoint, missing] }).catch((e) => e);
    expect(error).toBeInstanceOf(LlamaError);
    expect(error.code).toBe('MODEL_LOAD_FAILED');
    expect(error.message).toContain(`the RPC server ${missing} is not reachable (ECONNREFUSED)`);
    for (const rpcServers of [[], ['nohost'], ['host:0'], ['host:70000'], ['::1:50052'], [42], 'a:1']) {
      await expect(LlamaModel.load(storiesPath, { rpcServers } as never)).rejects.toMatchObject({
        code: 'INVALID_OPTION',
      });
    }
    await expect(LlamaModel.load(storiesPath, { rpcServers: [first.endpoint, first.endpoint] })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('twice'),
    });
    await expect(LlamaModel.load(storiesPath, { rpcServers: [first.endpoint], vocabOnly: true })).rejects.toMatchObject(
      { code: 'INVALID_OPTION' },
    );
    for (const tensorSplit of [[], [-1], [Number.NaN], ['1'], new Array(17).fill(1)]) {
      await expect(
        LlamaModel.load(storiesPath, { rpcServers: [first.endpoint], tensorSplit } as never),
      ).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    }
    // More proportions than devices: llama.cpp's own count of them.
    await expect(
      LlamaModel.load(storiesPath, { rpcServers: [first.endpoint], tensorSplit: [1, 1, 1] }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTION', message: 'tensorSplit has 3 entries for 1 devices' });
    // The server still serves.
    const model = await LlamaModel.load(storiesPath, { contextSize: 256, rpcServers: [first.endpoint] });
    expect((await model.generate(prompt, { temperature: 0, maxTokens: 64 })).text).toBe(local);
    await model.dispose();
  });

  test(`a server killed at random times, ${KILLS} times: typed errors, the process lives`, async () => {
    const random = prng(1234);
    const stats = () => addon().stats().models;
    const start = stats();
    const outcomes: Record<string, number> = {};
    const count = (what: string) => {
      outcomes[what] = (outcomes[what] ?? 0) + 1;
    };
    for (let i = 0; i < KILLS; i++) {
      const restarts = first.restarts;
      const pid = serverPid(first.endpoint);
      // From the load's start: every third kill within 20 ms (while the model loads, its weights
      // going to the server), the others within 400 ms (mostly in generation).
      const delay = Math.floor(random() * (i % 3 === 0 ? 20 : 400));
      const kill = new Promise<void>((resolve) =>
        setTimeout(() => {
          process.kill(pid, 'SIGKILL');
          resolve();
        }, delay),
      );
      let model: LlamaModel | undefined;
      try {
        model = await LlamaModel.load(storiesPath, { contextSize: 512, sequences: 2, rpcServers: [first.endpoint] });
        const long = { temperature: 0, maxTokens: 100_000, ignoreEos: true, contextShift: true } as const;
        const results = await Promise.allSettled([model.generate(prompt, long), model.generate('Tom', long)]);
        for (const result of results) {
          expect(result.status).toBe('rejected');
          const reason = (result as PromiseRejectedResult).reason;
          expect(reason).toBeInstanceOf(LlamaError);
          expect(reason.code).toBe('RPC_FAILED');
          expect(reason.message).toContain(first.endpoint);
        }
        count('generation failed: RPC_FAILED');
        // Unusable from here, with the same error, until it is loaded again.
        await expect(model.generate(prompt, { maxTokens: 2 })).rejects.toMatchObject({ code: 'RPC_FAILED' });
      } catch (error) {
        if (model !== undefined) throw error;
        expect(error).toBeInstanceOf(LlamaError);
        expect(['MODEL_LOAD_FAILED', 'RPC_FAILED']).toContain((error as LlamaError).code);
        count(`load failed: ${(error as LlamaError).code}`);
      } finally {
        await kill;
        await model?.dispose();
      }
      await restarted(first, restarts);
    }
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(KILLS);
    expect(outcomes['generation failed: RPC_FAILED'] ?? 0).toBeGreaterThan(0);
    console.log(`[rpc kills] ${KILLS} kills: ${JSON.stringify(outcomes)}`);
    // Loaded again once the server is back, the model is whole.
    let model: LlamaModel | undefined;
    for (let attempt = 0; attempt < 40 && model === undefined; attempt++) {
      model = await LlamaModel.load(storiesPath, { contextSize: 256, rpcServers: [first.endpoint] }).catch(async () => {
        await new Promise((r) => setTimeout(r, 50));
        return undefined;
      });
    }
    expect(model).toBeDefined();
    expect((await model?.generate(prompt, { temperature: 0, maxTokens: 64 }))?.text).toBe(local);
    await model?.dispose();
    // Every model made was freed.
    await new Promise((r) => setTimeout(r, 100));
    const end = stats();
    expect(end.made - start.made).toBe(end.freed - start.freed);
  }, 300_000);
});
