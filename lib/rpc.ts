// ggml's RPC backend, the server side: this machine's devices served to llama.cpp clients on other
// machines, from a child process the library owns (ggml's server blocks the thread it runs on, and
// a fault in it must not take the application down).
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { LlamaError } from './errors.js';
import { optionalInteger, optionsObject, rejectUnknown } from './option-checks.js';

/** Options of {@link startRpcServer}. */
export interface RpcServerOptions {
  /**
   * The address to listen on. Default 127.0.0.1: this machine only. The protocol has no
   * authentication or encryption — anyone who reaches the port can use the devices and read what
   * they hold — so listen elsewhere only on a trusted network (or behind an SSH tunnel or a VPN).
   */
  host?: string;
  /** The TCP port. Default 50052 (llama.cpp's); 0 picks a free one. */
  port?: number;
  /** CPU threads of a CPU device. Default: all of this machine's. */
  threads?: number;
  /**
   * ggml's names of the devices to serve ("CPU", "CUDA0", …, as {@link listDevices} lists them).
   * Default: the GPUs, else the CPU.
   */
  devices?: readonly string[];
  /** A folder where the server keeps tensors clients sent, so a model's next load sends only their hashes. */
  cacheDir?: string;
}

/** A running RPC server: clients reach it at `endpoint`. */
export interface RpcServer {
  /** "host:port", as a client's `rpcServers` (or llama.cpp's `--rpc`) names it. */
  readonly endpoint: string;
  /**
   * Settles when the server ends: resolves after close(); rejects (RPC_FAILED) when its process dies
   * and cannot be started again (three processes in a row died before accepting a connection).
   */
  readonly closed: Promise<void>;
  /**
   * How many times the server's process died and was started again. A client can make ggml's server
   * abort with a malformed message; that client loses its connection, and the server goes on.
   */
  readonly restarts: number;
  /** Stops the server (its clients lose it) and waits for its process to end. Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1)$/;

/** Whether `host` reaches this machine only. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/**
 * An RPC server's "host:port" as ggml reads it (the host up to the first colon: a host name or an
 * IPv4 address), or INVALID_OPTION naming `what`.
 */
export function parseEndpoint(what: string, endpoint: unknown): { host: string; port: number } {
  const match = typeof endpoint === 'string' ? /^([^:\s]+):(\d{1,5})$/.exec(endpoint) : null;
  const port = match === null ? 0 : Number(match[2]);
  if (match === null || port < 1 || port > 65535) {
    throw new LlamaError(
      'INVALID_OPTION',
      `${what} must be "host:port" with a host name or IPv4 address and a port 1-65535 ` +
        `(got ${JSON.stringify(endpoint)})`,
    );
  }
  return { host: match[1] as string, port };
}

/**
 * Resolves once a TCP connection to host:port opens (then closes it), or rejects with why not
 * (refused, no route, no answer within `timeoutMs`).
 */
function checkReachable(host: string, port: number, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(error.code ?? error.message));
    });
  });
}

/**
 * Checks that every RPC server of `endpoints` (named `what` in errors) accepts a connection, all at
 * once: a malformed endpoint is INVALID_OPTION, one that cannot be reached rejects with `code`,
 * the message `prefix` + "the RPC server HOST:PORT is not reachable (why)". ggml's own client
 * connects without a time limit and would wait for a host that does not answer: this comes first.
 */
export async function checkRpcServers(
  what: string,
  endpoints: readonly unknown[],
  code: 'MODEL_LOAD_FAILED' | 'RPC_FAILED',
  prefix = '',
): Promise<void> {
  await Promise.all(
    endpoints.map(async (endpoint, i) => {
      const { host, port } = parseEndpoint(`${what}[${i}]`, endpoint);
      try {
        await checkReachable(host, port);
      } catch (error) {
        throw new LlamaError(
          code,
          `${prefix}the RPC server ${endpoint} is not reachable (${(error as Error).message})`,
        );
      }
    }),
  );
}

/** Binds host:port for a moment: the port (a free one for 0), or why it cannot be had. */
function claimPort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'is in use' : `cannot be listened on (${error.message})`;
      reject(new LlamaError('RPC_FAILED', `${host}:${port} ${why}`));
    });
    probe.listen({ host, port, exclusive: true }, () => {
      const address = probe.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      probe.close(() => resolve(bound));
    });
  });
}

/** Resolves once host:port accepts a connection; rejects when `gone` settles first or after 60 s. */
async function reachable(host: string, port: number, gone: Promise<unknown>): Promise<void> {
  let over = false;
  gone.then(
    () => (over = true),
    () => (over = true),
  );
  const deadline = Date.now() + 60_000;
  while (!over && Date.now() < deadline) {
    const connected = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new LlamaError('RPC_FAILED', `the RPC server at ${host}:${port} did not start`);
}

/**
 * Starts ggml's RPC server for this machine's devices, in a child process this library owns and
 * stops: llama.cpp clients on other machines (`LlamaModel.load(path, { rpcServers })`, llama.cpp's
 * `--rpc`) then compute their models' layers here. Resolves once the server accepts connections.
 * A port in use or an address that cannot be listened on is `RPC_FAILED`; a device name this
 * machine does not have is `INVALID_OPTION`.
 */
export async function startRpcServer(options: RpcServerOptions = {}): Promise<RpcServer> {
  const opts = optionsObject<RpcServerOptions>('options', options);
  rejectUnknown('startRpcServer options', opts, ['host', 'port', 'threads', 'devices', 'cacheDir']);
  const host = opts.host ?? '127.0.0.1';
  if (typeof host !== 'string' || !/^[\w.:-]+$/.test(host)) {
    throw new LlamaError('INVALID_OPTION', 'host must be a host name or an IPv4 address');
  }
  const requested = optionalInteger('port', opts.port, 0, 65535) ?? 50052;
  const threads = optionalInteger('threads', opts.threads, 1, 1024);
  const devices = opts.devices;
  if (devices !== undefined && (!Array.isArray(devices) || devices.some((d) => typeof d !== 'string' || d === ''))) {
    throw new LlamaError('INVALID_OPTION', 'devices must be an array of device names');
  }
  if (opts.cacheDir !== undefined && (typeof opts.cacheDir !== 'string' || opts.cacheDir === '')) {
    throw new LlamaError('INVALID_OPTION', 'cacheDir must be a non-empty string');
  }
  if (opts.cacheDir !== undefined) mkdirSync(opts.cacheDir, { recursive: true });
  if (!isLoopback(host)) {
    process.emitWarning(
      `the RPC server listens on ${host}: its protocol has no authentication or encryption, so anyone who ` +
        'reaches the port can use the devices and read what they hold. Use it only on a trusted network, ' +
        'or through an SSH tunnel or a VPN.',
      { code: 'LLAMA_NAPI_RPC_EXPOSED' },
    );
  }
  const port = await claimPort(host, requested);
  const endpoint = `${host}:${port}`;
  // Beside this module once compiled (dist/); run from the TypeScript sources, the compiled copy.
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'rpc-server-process.js');
  const script = existsSync(beside) ? beside : join(here, '..', 'dist', 'rpc-server-process.js');
  const settings = {
    endpoint,
    ...(threads === undefined ? {} : { threads }),
    ...(opts.cacheDir === undefined ? {} : { cacheDir: opts.cacheDir }),
    ...(devices === undefined ? {} : { devices: [...devices] }),
  };
  const probeHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  // The server's process, started again should it die once it served (a client's malformed
  // message can make ggml's server abort): a client loses its connection, the server goes on.
  let child: ChildProcess;
  let stderr = '';
  let closing = false;
  let ready = false;
  let restarts = 0;
  let started = false; // the first process accepted connections
  let failedStarts = 0;
  let stopped: LlamaError | undefined;
  let settle: { resolve: () => void; reject: (error: LlamaError) => void };
  const closed = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  closed.catch(() => undefined);
  const launch = () => {
    stderr = '';
    ready = false;
    child = fork(script, [JSON.stringify(settings)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, LLAMA_NAPI_LOG_LEVEL: process.env.LLAMA_NAPI_LOG_LEVEL ?? 'error' },
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderr = (stderr + text).slice(-4096);
    });
    const thisChild = child;
    if (started) {
      // A restarted process: ready once it accepts connections again.
      const exited = new Promise((resolve) => thisChild.once('exit', resolve));
      reachable(probeHost, port, exited).then(
        () => {
          if (child === thisChild) {
            ready = true;
            failedStarts = 0;
          }
        },
        () => undefined,
      );
    }
    child.once('exit', (code, signal) => {
      if (closing) {
        settle.resolve();
        return;
      }
      const said = stderr.trim().split('\n').at(-1) ?? '';
      // A process that served dies of a client's message: start another. One that dies before it
      // accepts connections cannot be started (a device failing, the address taken): after three in
      // a row, the server ends.
      if (!ready) failedStarts++;
      if (started && failedStarts < 3) {
        restarts++;
        launch();
        return;
      }
      const why = said !== '' ? `: ${said}` : signal !== null ? ` (${signal})` : ` (exit code ${code})`;
      stopped = /no device is named/.test(said)
        ? new LlamaError('INVALID_OPTION', said)
        : new LlamaError('RPC_FAILED', `the RPC server at ${endpoint} stopped${why}`);
      settle.reject(stopped);
    });
  };
  launch();
  const close = () => {
    if (!closing) {
      closing = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      else if (stopped === undefined) settle.resolve();
    }
    return closed.catch(() => undefined);
  };
  try {
    await reachable(probeHost, port, closed);
    ready = true;
    started = true;
  } catch (error) {
    if (stopped !== undefined) throw stopped; // the server's own reason, over "did not start"
    await close();
    throw error;
  }
  return {
    endpoint,
    closed,
    close,
    get restarts() {
      return restarts;
    },
  };
}
