// Fuzzing ggml's RPC server on loopback (test/fixtures/rpc-fuzz.ts): random bytes, malformed,
// truncated and oversized commands, buffer and tensor fields at random, at the edges and pointing
// into and just past real buffers. The server must never hang and must keep serving a well-formed
// client; where a message makes ggml's server abort (it asserts on some client input), its process
// is started again and only that client's connection is lost. LLAMA_NAPI_RPC_FUZZ sets the number of
// messages (a longer run: 20000).
import { afterAll, beforeAll, expect, test } from 'vitest';

import { type RpcServer, startRpcServer } from '../../lib/index.js';
import { RpcConnection, fuzzMessages, helloBytes, realBases, wellFormedRound } from '../fixtures/rpc-fuzz.js';

const COUNT = Number(process.env.LLAMA_NAPI_RPC_FUZZ ?? 600);
const PER_CONNECTION = 4;

let server: RpcServer;
let stopped: unknown;
beforeAll(async () => {
  server = await startRpcServer({ port: 0, threads: 1 });
  server.closed.catch((error: unknown) => {
    stopped = error;
  });
});
afterAll(async () => {
  await server?.close();
});

/** A well-formed client's round, retried while a restarted server comes up (at most 10 s). */
async function served(host: string, port: number) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const round = await wellFormedRound(host, port);
    if (round !== undefined || Date.now() > deadline) return round;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test(`${COUNT} fuzz messages: no hang, the server serves on, well-formed clients are answered`, async () => {
  const [host, portText] = server.endpoint.split(':') as [string, string];
  const port = Number(portText);
  const baseline = await served(host, port);
  expect(baseline).toBeDefined();
  const tally = new Map<string, number>();
  let sent = 0;
  for (let first = 0; sent < COUNT; first += PER_CONNECTION) {
    const connection = await RpcConnection.open(host, port).catch(() => undefined);
    if (connection === undefined) {
      expect(await served(host, port)).toEqual(baseline); // a restart under way
      continue;
    }
    try {
      // A message meant to come before HELLO goes alone; the others follow a HELLO, on most
      // connections with real buffers for their fields to point into.
      const probe = fuzzMessages(PER_CONNECTION, first + 1, [], first);
      let bases: bigint[] = [];
      if (probe[0]!.hello) {
        connection.write(helloBytes());
        if ((await connection.answer()) === undefined) continue;
        if (first % 3 !== 0) bases = await realBases(connection, [4096n, 1n << 20n]);
      }
      const messages = fuzzMessages(PER_CONNECTION, first + 1, bases, first);
      for (const message of probe[0]!.hello ? messages.filter((m) => m.hello) : messages.slice(0, 1)) {
        connection.write(message.bytes);
        const kind = message.name.replace(/ \d+,/, ',');
        tally.set(kind, (tally.get(kind) ?? 0) + 1);
        sent++;
        // An answer, the server closing the connection, or nothing (it waits for bytes that never come).
        if (await connection.closedWithin(30)) break;
      }
    } finally {
      connection.close();
    }
    if (first % (PER_CONNECTION * 10) === 0) {
      expect(await served(host, port), `a well-formed client was not served after ${sent} messages`).toEqual(baseline);
    }
    expect(stopped, `the server could not go on after ${sent} messages`).toBeUndefined();
  }
  expect(await served(host, port)).toEqual(baseline);
  expect(stopped).toBeUndefined();
  console.log(
    `[rpc fuzz] ${sent} messages, hangs 0, the server's process started again ${server.restarts} times; ` +
      [...tally].map(([name, n]) => `${name} ${n}`).join(', '),
  );
}, 600_000);
