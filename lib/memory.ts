// Memory plans: the options that decide what a model and its context take on each device, the fit
// llama.cpp makes of them (gpuLayers and contextSize 'auto'), and estimateMemory().
import { resolve } from 'node:path';

import { addon, type NativeDeviceMemory, type NativeLoadModelOptions, type NativeMemoryBreakdown } from './binding.js';
import { LlamaError, invalidOption, native } from './errors.js';
import { checkModelFile } from './gguf/check-file.js';
import { isRemoteSource } from './hub.js';
import { optionalBoolean, optionalLimited, optionsObject, rejectUnknown } from './option-checks.js';
import { checkRpcServers, parseEndpoint } from './rpc.js';
import { defaultThreads } from './threads.js';

/** Bytes a device (or the host) holds for a model: its weights, its context (the KV cache and
 *  recurrent state) and its compute buffers, with the device's memory when measured. */
export type DeviceMemory = NativeDeviceMemory;

/** Memory per device (the devices the model uses, in llama.cpp's order) and on the host. */
export type MemoryBreakdown = NativeMemoryBreakdown;

/** What {@link estimateMemory} projects a load would take. */
export interface MemoryEstimate extends MemoryBreakdown {
  /** Whether it fits: a load with the same options would not reject with `INSUFFICIENT_MEMORY`. */
  fits: boolean;
  /** Why it does not fit: what each device needs and may use (when `fits` is false). */
  reason?: string;
  /** Layers the load would offload, of all that can go to a device (the output layer counts). */
  gpuLayers: { offloaded: number; total: number };
  /** Tokens one request may hold: the chosen size with `contextSize: 'auto'` or the default. */
  contextSize: number;
}

/** The options of a load that decide where its memory goes and how much of it there is. */
export interface MemoryOptions {
  /**
   * Tokens one request may hold (prompt + output). A number, or `'auto'`: the largest that fits the
   * devices' free memory, up to the model's training context (shrinking it, down to 4096, before
   * moving layers off a GPU). Default: the training context, at most 4096.
   */
  contextSize?: number | 'auto';
  /**
   * Requests served at once (parallel sequences, batched into shared decodes); more callers wait
   * in a queue. Each sequence holds `contextSize` tokens. Default 1.
   */
  sequences?: number;
  /** Most tokens evaluated per llama_decode call. Default: min(512, contextSize). */
  batchSize?: number;
  /**
   * Layers to put on a GPU or on `rpcServers` (llama.cpp offloads the last layers first):
   * `'auto'` (default): as many as fit the devices' free memory with the context, llama.cpp's own
   * fit (common/fit); `'all'`; or a count (-1 = all). With a count or 'all', a load that cannot
   * fit rejects with `INSUFFICIENT_MEMORY` before anything is allocated.
   */
  gpuLayers?: number | 'all' | 'auto';
  /**
   * RPC servers ("host:port", each a `llama-napi rpc-server` or llama.cpp's `rpc-server`) whose
   * devices take the offloaded layers, before this machine's GPUs, as llama.cpp's `--rpc` places
   * them. Each is checked for a connection before loading (`MODEL_LOAD_FAILED` naming it). If a
   * server fails later, the request in flight rejects with `RPC_FAILED` and so does every later one:
   * load the model again. The protocol has no authentication (docs/api.md, "One model across
   * machines").
   */
  rpcServers?: readonly string[];
  /**
   * How to share the offloaded layers between the devices (the servers' devices in order, then
   * local GPUs): proportions such as `[3, 1]`, as llama.cpp's `--tensor-split`. Default: by free
   * memory (with `gpuLayers: 'auto'`, the layers that fit each device).
   */
  tensorSplit?: readonly number[];
  /** Flash attention: true, false or 'auto' (default, llama.cpp decides). */
  flashAttention?: boolean | 'auto';
  /**
   * Bytes the model, its context and compute buffers may take on each device: one number for
   * every device, or one per device (in {@link estimateMemory}'s order). Without a GPU or RPC
   * device, the first limits this machine's memory; weights mapped from the file (`useMmap`, the
   * default) are not counted there, since the system can drop and reread their pages. Default: the
   * devices' free memory.
   */
  memoryLimit?: number | readonly number[];
  /** Bytes to leave free on each device (the same forms; without devices, of this machine's
   *  memory). Default 1 GiB, as llama.cpp's `--fit-target`. */
  memoryReserve?: number | readonly number[];
}

/** Options of {@link estimateMemory}: those of {@link LlamaModel.load} that decide memory. */
export interface EstimateMemoryOptions extends MemoryOptions {
  /** A draft model loaded beside this one for speculative decoding (as `speculative.draftModel`). */
  speculative?: { draftModel?: string };
  /** Taken, so that a load's options can be passed as they are; threads take no memory here. */
  threads?: number;
  /** As the load's: weights mapped from the file need no memory of their own (default true). */
  useMmap?: boolean;
}

export const MEMORY_OPTIONS = [
  'contextSize',
  'sequences',
  'batchSize',
  'gpuLayers',
  'rpcServers',
  'tensorSplit',
  'flashAttention',
  'memoryLimit',
  'memoryReserve',
] as const;

/** The memory options, checked. */
export interface Placement {
  contextSize: number | 'auto' | undefined;
  sequences: number;
  batchSize: number | undefined;
  /** -1: all. */
  gpuLayers: number | 'auto';
  flashAttention: boolean | 'auto';
  rpcServers: string[];
  tensorSplit: number[] | undefined;
  memoryLimit: number[] | undefined;
  memoryReserve: number[] | undefined;
}

/** Checks {@link MemoryOptions.rpcServers}: "host:port" strings, at least one, none twice. */
function parseRpcServers(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0)
    invalidOption('rpcServers', 'a non-empty array of "host:port"', value);
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    parseEndpoint(`rpcServers[${i}]`, entry);
    const endpoint = entry as string;
    if (seen.has(endpoint)) throw new LlamaError('INVALID_OPTION', `rpcServers names ${endpoint} twice`);
    seen.add(endpoint);
    return endpoint;
  });
}

/** Checks {@link MemoryOptions.tensorSplit}: finite proportions >= 0, as many as llama.cpp takes. */
function parseTensorSplit(value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 16) {
    invalidOption('tensorSplit', 'an array of 1 to 16 numbers', value);
  }
  return value.map((entry: unknown, i) => {
    if (typeof entry !== 'number' || !Number.isFinite(entry) || entry < 0) {
      invalidOption(`tensorSplit[${i}]`, 'a finite number >= 0', entry);
    }
    return entry;
  });
}

/** Bytes: one count (every device) or 1 to 16 of them (per device), whole and >= 0. */
function parseBytes(name: string, value: unknown): number[] | undefined {
  if (value === undefined) return undefined;
  const isBytes = (entry: unknown): entry is number =>
    typeof entry === 'number' && Number.isSafeInteger(entry) && entry >= 0;
  if (isBytes(value)) return [value];
  if (Array.isArray(value) && value.length >= 1 && value.length <= 16 && value.every(isBytes)) return [...value];
  return invalidOption(name, 'a byte count (an integer ≥ 0) or an array of 1 to 16 of them', value);
}

/** Checks the memory options of a load or an estimate. */
export function parsePlacement(opts: MemoryOptions): Placement {
  const contextSize = opts.contextSize === 'auto' ? 'auto' : optionalLimited('contextSize', opts.contextSize);
  let gpuLayers: number | 'auto';
  if (opts.gpuLayers === undefined || opts.gpuLayers === 'auto') gpuLayers = 'auto';
  else if (opts.gpuLayers === 'all') gpuLayers = -1;
  else if (typeof opts.gpuLayers === 'number') gpuLayers = optionalLimited('gpuLayers', opts.gpuLayers) ?? -1;
  else invalidOption('gpuLayers', "a count, 'all' or 'auto'", opts.gpuLayers);
  if (opts.flashAttention !== undefined && opts.flashAttention !== 'auto' && typeof opts.flashAttention !== 'boolean') {
    throw new LlamaError(
      'INVALID_OPTION',
      `flashAttention must be true, false or 'auto' (got ${String(opts.flashAttention)})`,
    );
  }
  return {
    contextSize,
    sequences: optionalLimited('sequences', opts.sequences) ?? 1,
    batchSize: optionalLimited('batchSize', opts.batchSize),
    gpuLayers,
    flashAttention: opts.flashAttention ?? 'auto',
    rpcServers: opts.rpcServers === undefined ? [] : parseRpcServers(opts.rpcServers),
    tensorSplit: opts.tensorSplit === undefined ? undefined : parseTensorSplit(opts.tensorSplit),
    memoryLimit: parseBytes('memoryLimit', opts.memoryLimit),
    memoryReserve: parseBytes('memoryReserve', opts.memoryReserve),
  };
}

/** The addon's load options for a placement: the devices, and the memory plan llama.cpp makes
 *  (for the context the load then creates) before anything is allocated. */
export function nativeLoadOptions(
  placement: Placement,
  threads: number,
  extra: { useMmap: boolean; draftModel?: string | undefined },
): NativeLoadModelOptions {
  const { contextSize, sequences, batchSize } = placement;
  const total = typeof contextSize === 'number' ? contextSize * sequences : undefined;
  return {
    gpuLayers: placement.gpuLayers,
    useMmap: extra.useMmap,
    vocabOnly: false,
    ...(placement.rpcServers.length > 0 ? { rpcServers: placement.rpcServers } : {}),
    ...(placement.tensorSplit === undefined ? {} : { tensorSplit: placement.tensorSplit }),
    fit: {
      context: {
        ...(total === undefined ? {} : { contextSize: total }),
        batchSize: Math.min(batchSize ?? 512, total ?? Number.MAX_SAFE_INTEGER),
        threads,
        threadsBatch: threads,
        sequences,
        flashAttention: placement.flashAttention,
      },
      ...(contextSize === 'auto' ? { autoContext: true } : {}),
      ...(contextSize === undefined ? { defaultContextSize: 4096 } : {}),
      ...(placement.memoryLimit === undefined ? {} : { memoryLimit: placement.memoryLimit }),
      ...(placement.memoryReserve === undefined ? {} : { memoryReserve: placement.memoryReserve }),
      ...(extra.draftModel === undefined ? {} : { draftModel: extra.draftModel }),
    },
  };
}

/** A native breakdown as the public type (the same fields, copied so callers may keep it). */
export function memoryBreakdown(raw: NativeMemoryBreakdown): MemoryBreakdown {
  return { devices: raw.devices.map((device) => ({ ...device })), host: { ...raw.host } };
}

/**
 * What loading `path` with these options would take on each device and on the host, in bytes, as
 * llama.cpp projects it without loading the weights (a no_alloc load of the model and its context,
 * after the fit `gpuLayers`/`contextSize` 'auto' make). Rejects with `MODEL_NOT_FOUND`,
 * `INVALID_MODEL_FILE` or `MODEL_LOAD_FAILED` for a file llama.cpp cannot load.
 */
export async function estimateMemory(path: string, options: EstimateMemoryOptions = {}): Promise<MemoryEstimate> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new LlamaError('INVALID_ARGUMENT', 'path must be a non-empty string');
  }
  if (isRemoteSource(path)) {
    throw new LlamaError(
      'INVALID_ARGUMENT',
      `estimateMemory takes a file's path; download ${path} first (downloadModel)`,
    );
  }
  const opts = optionsObject<EstimateMemoryOptions>('options', options);
  rejectUnknown('estimateMemory options', opts, [...MEMORY_OPTIONS, 'speculative', 'threads', 'useMmap']);
  const placement = parsePlacement(opts);
  const threads = optionalLimited('threads', opts.threads) ?? defaultThreads();
  const useMmap = optionalBoolean('useMmap', opts.useMmap) ?? true;
  let draftModel: string | undefined;
  if (opts.speculative !== undefined) {
    const spec = optionsObject<{ draftModel?: string }>('speculative', opts.speculative);
    rejectUnknown('speculative', spec, ['draftModel', 'lookup', 'maxDraftTokens']);
    if (spec.draftModel !== undefined) {
      if (typeof spec.draftModel !== 'string' || spec.draftModel.length === 0) {
        invalidOption('speculative.draftModel', 'a non-empty string', spec.draftModel);
      }
      draftModel = resolve(spec.draftModel);
      await checkModelFile(draftModel);
    }
  }
  const resolved = resolve(path);
  await checkModelFile(resolved);
  await checkRpcServers('rpcServers', placement.rpcServers, 'MODEL_LOAD_FAILED', `cannot plan ${resolved}: `);
  const raw = addon();
  await native(raw.initBackend());
  const estimate = await native(
    raw.estimateMemory(resolved, nativeLoadOptions(placement, threads, { useMmap, draftModel })),
  ).catch(tensorSplitOption);
  return {
    ...memoryBreakdown(estimate),
    fits: estimate.fits,
    ...(estimate.reason === null ? {} : { reason: estimate.reason }),
    gpuLayers: { ...estimate.gpuLayers },
    contextSize: Math.floor(estimate.contextSize / placement.sequences),
  };
}

/** Only llama.cpp's device list tells how many proportions tensorSplit may have: its refusal is
 *  the option's error. */
export function tensorSplitOption(error: unknown): never {
  if (error instanceof LlamaError && error.code === 'INVALID_ARGUMENT' && error.message.startsWith('tensorSplit')) {
    throw new LlamaError('INVALID_OPTION', error.message);
  }
  throw error;
}
