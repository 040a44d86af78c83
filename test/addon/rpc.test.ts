// ggml's RPC backend, the server side: startRpcServer() serves this machine's devices from a child
// process, and llama.cpp's own client (llama-completion --rpc, built in the oracle build) computes a
// model's layers there, giving the text it gives locally (and our generate() gives).
import { spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { networkInterfaces } from 'node:os';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { LlamaModel, type RpcServer, startRpcServer } from '../../lib/index.js';
import { llamaCompletionText, llamaToolPath } from '../fixtures/oracle.js';
import { haveStories, storiesPath, storiesSkipMessage } from '../fixtures/paths.js';

const prompt = 'Once upon a time';
const greedy = ['--temp', '0'];

/** Whether host:port accepts a connection. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe.skipIf(!haveStories)(`RPC server ${haveStories ? '' : storiesSkipMessage}`, () => {
  let first: RpcServer;
  let second: RpcServer;
  beforeAll(async () => {
    [first, second] = await Promise.all([startRpcServer({ port: 0, threads: 2 }), startRpcServer({ port: 0 })]);
  });
  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
  });

  test("llama.cpp's client on one server and on two gives the local text, and generate()'s", async () => {
    const local = llamaCompletionText(storiesPath, prompt, 48, greedy, 100);
    const model = await LlamaModel.load(storiesPath, { contextSize: 512 });
    const ours = await model.generate(prompt, { temperature: 0, maxTokens: 48 });
    await model.dispose();
    expect(local.startsWith(ours.text)).toBe(true);
    for (const servers of [[first], [first, second]]) {
      const endpoints = servers.map((server) => server.endpoint).join(',');
      const flags = [...greedy, '--rpc', endpoints, '-ngl', '99'];
      expect(llamaCompletionText(storiesPath, prompt, 48, flags, 100).startsWith(ours.text)).toBe(true);
      // The layers were on the servers' devices.
      const run = spawnSync(
        llamaToolPath('llama-completion'),
        ['-m', storiesPath, '-p', prompt, '-n', '1', '-no-cnv', '--simple-io', '--no-warmup', '-lv', '4', ...flags],
        { encoding: 'utf8' },
      );
      for (const server of servers) expect(run.stderr).toContain(`[${server.endpoint}] model buffer size`);
    }
  });

  test('the default address is this machine only, and the default port 50052', async () => {
    const server = await startRpcServer();
    try {
      expect(server.endpoint).toBe('127.0.0.1:50052');
      expect(await accepts('127.0.0.1', 50052)).toBe(true);
      const outward = Object.values(networkInterfaces())
        .flat()
        .find((address) => address !== undefined && address.family === 'IPv4' && !address.internal);
      if (outward !== undefined) expect(await accepts(outward.address, 50052)).toBe(false);
    } finally {
      await server.close();
    }
    // Closed: the port is free again, and close() can be called again.
    expect(await accepts('127.0.0.1', 50052)).toBe(false);
    await server.close();
    await expect(server.closed).resolves.toBeUndefined();
  });

  test('a port in use is RPC_FAILED; an unknown device and bad options are INVALID_OPTION', async () => {
    const port = Number(first.endpoint.split(':')[1]);
    await expect(startRpcServer({ port })).rejects.toMatchObject({
      code: 'RPC_FAILED',
      message: expect.stringMatching(/in use/),
    });
    await expect(startRpcServer({ port: 0, devices: ['NO-SUCH-DEVICE'] })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/no device is named "NO-SUCH-DEVICE" \(this machine has: .*CPU/),
    });
    for (const options of [
      { port: 70000 },
      { port: -1 },
      { host: 'a b' },
      { threads: 0 },
      { devices: 'CPU' },
      { x: 1 },
    ]) {
      await expect(startRpcServer(options as object)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    }
    // The servers serve on.
    expect(await accepts('127.0.0.1', port)).toBe(true);
  });
});
