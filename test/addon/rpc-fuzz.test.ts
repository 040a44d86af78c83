// Fuzzing ggml's RPC server on loopback (test/fixtures/rpc-fuzz.ts): random bytes, malformed,
// truncated and oversized commands, buffer and tensor fields at random, at the edges and pointing
// into and just past real buffers. The server must never hang or stop, and must keep serving a
// well-formed client. Unpatched, ggml's server aborted on about 2% of these (a tensor outside its
// buffer, a size no vector holds): vendor/patches/rpc-server-malformed-input.patch refuses them.
// Graphs with null nodes or nodes in no buffer crashed it (3 in 20000, SIGSEGV in graph_compute):
// vendor/patches/rpc-server-graph-checks.patch refuses them. Should the process die anyway,
// startRpcServer starts it again. LLAMA_NAPI_RPC_FUZZ sets the number of messages (a longer run: 20000).
import { afterAll, beforeAll, expect, test } from 'vitest';

import { type RpcServer, startRpcServer } from '../../lib/index.js';
import {
  CMD,
  RpcConnection,
  f32Tensor,
  frame,
  fuzzMessages,
  helloBytes,
  realBases,
  wellFormedRound,
} from '../fixtures/rpc-fuzz.js';

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

test('the messages that made ggml abort end their connection, not the server', async () => {
  const [host, portText] = server.endpoint.split(':') as [string, string];
  const port = Number(portText);
  const before = server.restarts;
  const outside = async (data: (base: bigint) => bigint) => {
    const connection = await RpcConnection.open(host, port);
    connection.write(helloBytes());
    expect(await connection.answer()).toBeDefined();
    const [pointer, base] = (await realBases(connection, [4096n])) as [bigint, bigint];
    const payload = Buffer.concat([f32Tensor(pointer, data(base), 16), Buffer.alloc(8), Buffer.alloc(64)]);
    connection.write(frame(CMD.SET_TENSOR, payload));
    return connection;
  };
  // Inside the buffer: written, the connection goes on.
  const inside = await outside((base) => base);
  expect(await inside.closedWithin(300)).toBe(false);
  inside.close();
  // Just past its end, or before it: refused, the connection ends (unpatched: GGML_ASSERT, abort).
  for (const data of [(base: bigint) => base + 4096n, (base: bigint) => base - 64n]) {
    const connection = await outside(data);
    expect(await connection.closedWithin(5000)).toBe(true);
  }
  // A size no vector can hold (unpatched: std::length_error, uncaught).
  const huge = await RpcConnection.open(host, port);
  huge.write(helloBytes());
  expect(await huge.answer()).toBeDefined();
  huge.write(frame(CMD.SET_TENSOR, Buffer.alloc(16), 0xffffffffffffffffn));
  expect(await huge.closedWithin(5000)).toBe(true);
  expect(await served(host, port)).toBeDefined();
  expect(server.restarts).toBe(before);
});

test('graphs with a node in no buffer, or no node at all, end their connection, not the server', async () => {
  const [host, portText] = server.endpoint.split(':') as [string, string];
  const port = Number(portText);
  const before = server.restarts;
  const u32 = (value: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    return b;
  };
  const u64 = (value: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(value);
    return b;
  };
  // Tensor 1: F32, no buffer, no data, op DUP with no source (unpatched: SIGSEGV in the CPU backend).
  const unplaced = f32Tensor(0n, 0n, 16);
  unplaced.writeUInt32LE(1, 8 + 4 + 8 + 16 + 16);
  const graphs = [
    Buffer.concat([u32(0), u32(1), u64(1n), u32(1), unplaced]),
    Buffer.concat([u32(0), u32(2), u64(0n), u64(0n), u32(0)]), // node ids 0: null nodes
  ];
  for (const graph of graphs) {
    const connection = await RpcConnection.open(host, port);
    connection.write(helloBytes());
    expect(await connection.answer()).toBeDefined();
    connection.write(frame(CMD.GRAPH_COMPUTE, graph));
    expect(await connection.closedWithin(5000)).toBe(true);
    connection.close();
  }
  expect(await served(host, port)).toBeDefined();
  expect(server.restarts).toBe(before);
});

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
