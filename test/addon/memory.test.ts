// Memory plans: estimateMemory() against what llama.cpp then allocates, gpuLayers and contextSize
// 'auto' against llama.cpp's own llama-fit-params (common_fit_params), and INSUFFICIENT_MEMORY
// before anything is allocated. Without a GPU the devices are this machine's memory and an RPC
// server's device (its CPU), each capped with memoryLimit.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { addon } from '../../lib/binding.js';
import {
  LlamaError,
  LlamaModel,
  LocalProvider,
  type MemoryBreakdown,
  type RpcServer,
  estimateMemory,
  setLogLevel,
  setLogger,
  startRpcServer,
} from '../../lib/index.js';
import { testModelPath } from '../fixtures/models.js';
import { ensureOracle, llamaArchModels, llamaToolPath } from '../fixtures/oracle.js';
import { haveStories, storiesPath } from '../fixtures/paths.js';

const MiB = 1024 * 1024;
/** A size as the messages write it. */
const SIZE = String.raw`[\d.]+ (?:B|KiB|MiB|GiB)`;
const longContext = testModelPath('longContext');
const wideLayers = testModelPath('wideLayers');

/** llama.cpp's llama-fit-params: the `-c N -ngl M` it fits for `args`. */
function fitParams(model: string, args: string[]): { contextSize: number; gpuLayers: number } {
  const run = spawnSync(llamaToolPath('llama-fit-params'), ['-m', model, '-b', '512', '-ub', '512', ...args], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`llama-fit-params exited with ${run.status}: ${run.stderr}`);
  const match = /^-c (\d+) -ngl (-?\d+)/m.exec(run.stdout);
  if (match === null) throw new Error(`llama-fit-params printed no fit: ${run.stdout}`);
  return { contextSize: Number(match[1]), gpuLayers: Number(match[2]) };
}

const used = (memory: { model: number; context: number; compute: number }) =>
  memory.model + memory.context + memory.compute;

/** Every buffer of `estimate` within 10% of `actual`'s (a small buffer within 64 KiB). */
function expectClose(estimate: MemoryBreakdown, actual: MemoryBreakdown, label: string): void {
  const pairs = [
    ...estimate.devices.map((device, i) => [device, actual.devices[i]!] as const),
    [estimate.host, actual.host] as const,
  ];
  expect(
    estimate.devices.map((d) => d.name),
    label,
  ).toEqual(actual.devices.map((d) => d.name));
  for (const [planned, allocated] of pairs) {
    for (const part of ['model', 'context', 'compute'] as const) {
      const difference = Math.abs(planned[part] - allocated[part]);
      expect(
        difference <= Math.max(0.1 * allocated[part], 64 * 1024),
        `${label} ${planned.name} ${part}: planned ${planned[part]}, allocated ${allocated[part]}`,
      ).toBe(true);
    }
  }
}

beforeAll(() => {
  ensureOracle('llama-fit-params');
});

describe('estimateMemory', () => {
  const cases: Array<[string, string]> = [
    ...(haveStories ? [['stories260K', storiesPath] as [string, string]] : []),
    ['spmF16', testModelPath('spmF16')],
    ['spmQ8', testModelPath('spmQ8')],
    ['wideLayers', wideLayers],
    ...llamaArchModels('^(llama|gemma3|qwen3moe|mamba2|jamba|plamo2|kimi-linear|cogvlm)$'),
  ];

  test('is within 10% of what llama.cpp allocates, on several architectures and context sizes', async () => {
    const rows: string[] = [];
    for (const [name, path] of cases) {
      for (const [contextSize, sequences] of [
        [256, 1],
        [1024, 2],
      ] as const) {
        const estimate = await estimateMemory(path, { contextSize, sequences });
        await using model = await LlamaModel.load(path, { contextSize, sequences, threads: 2 });
        const actual = model.info.memory!;
        expect(estimate.fits).toBe(true);
        expect(estimate.contextSize).toBe(model.contextSize);
        expect(estimate.gpuLayers).toEqual(model.info.gpuLayers);
        expectClose(estimate, actual, `${name} at ${contextSize}×${sequences}`);
        rows.push(
          `${name.padEnd(22)} ${String(contextSize).padStart(5)}×${sequences}  planned ${used(estimate.host)} B, ` +
            `allocated ${used(actual.host)} B (${((used(estimate.host) / used(actual.host) - 1) * 100).toFixed(2)}%)`,
        );
      }
    }
    console.log(`[estimate vs allocated, host]\n${rows.join('\n')}`);
  });

  test('the default context is the training context, at most 4096, as a load makes it', async () => {
    const estimate = await estimateMemory(longContext);
    expect(estimate.contextSize).toBe(4096);
    await using model = await LlamaModel.load(longContext, { threads: 2 });
    expect(model.contextSize).toBe(4096);
    expectClose(estimate, model.info.memory!, 'longContext default');
    const shorter = await estimateMemory(testModelPath('bpeF32'), { sequences: 3 });
    expect(shorter.contextSize).toBe(256);
  });

  test('bad sources and options are typed errors, with no native work', async () => {
    const bad: Array<[unknown, unknown, string]> = [
      ['', {}, 'INVALID_ARGUMENT'],
      ['hf:acme/tiny:Q4_K_M', {}, 'INVALID_ARGUMENT'],
      [join(tmpdir(), 'no-such-model.gguf'), {}, 'MODEL_NOT_FOUND'],
      [longContext, { memoryLimit: -1 }, 'INVALID_OPTION'],
      [longContext, { memoryLimit: 1.5 }, 'INVALID_OPTION'],
      [longContext, { memoryLimit: [] }, 'INVALID_OPTION'],
      [longContext, { memoryReserve: ['1'] }, 'INVALID_OPTION'],
      [longContext, { gpuLayers: 'some' }, 'INVALID_OPTION'],
      [longContext, { contextSize: 'big' }, 'INVALID_OPTION'],
      [longContext, { threads: 0 }, 'INVALID_OPTION'],
      [longContext, { lora: [] }, 'INVALID_OPTION'],
      [longContext, { speculative: { draftModel: 7 } }, 'INVALID_OPTION'],
    ];
    for (const [path, options, code] of bad) {
      await expect(estimateMemory(path as string, options as object), JSON.stringify(options)).rejects.toMatchObject({
        code,
      });
    }
    const corrupt = join(tmpdir(), `llama-napi-corrupt-${process.pid}.gguf`);
    writeFileSync(corrupt, Buffer.from('GGUF\u0003\u0000\u0000\u0000garbage'));
    await expect(estimateMemory(corrupt)).rejects.toBeInstanceOf(LlamaError);
    await expect(LlamaModel.load(longContext, { memoryLimit: [1, 2, 'x'] as never })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
  });
});

describe("contextSize 'auto' within this machine's memory", () => {
  let total = 0;
  let limit = 0;
  let margin = 0;

  // llama-fit-params weighs the weights too: so does a load that does not map them.
  const unmapped = { useMmap: false } as const;

  beforeAll(async () => {
    // A limit halfway between what 4096 and 32768 tokens need, whole MiB below the total as
    // llama-fit-params's --fit-target takes it.
    const small = await estimateMemory(longContext, { contextSize: 4096, ...unmapped });
    const large = await estimateMemory(longContext, { contextSize: 32768, ...unmapped });
    total = small.host.total;
    const halfway = used(small.host) + (used(large.host) - used(small.host)) / 2;
    margin = Math.ceil((total - halfway) / MiB);
    limit = total - margin * MiB;
  });

  test('chooses the context llama.cpp fits, and what it allocates stays within the limit', async () => {
    const oracle = fitParams(longContext, ['-fitt', String(margin)]);
    console.log(
      `[contextSize 'auto'] memoryLimit ${limit} B: llama-fit-params -fitt ${margin} → -c ${oracle.contextSize}`,
    );
    expect(oracle.contextSize).toBeGreaterThan(4096);
    expect(oracle.contextSize).toBeLessThan(32768);
    const options = { contextSize: 'auto', memoryLimit: limit, ...unmapped } as const;
    const estimate = await estimateMemory(longContext, options);
    expect(estimate).toMatchObject({ fits: true, contextSize: oracle.contextSize });
    await using model = await LlamaModel.load(longContext, { ...options, threads: 2 });
    expect(model.contextSize).toBe(oracle.contextSize);
    expect(used(model.info.memory!.host)).toBeLessThanOrEqual(limit);
    // memoryReserve is llama.cpp's --fit-target itself.
    await using reserved = await LlamaModel.load(longContext, {
      contextSize: 'auto',
      memoryReserve: margin * MiB,
      threads: 2,
      ...unmapped,
    });
    expect(reserved.contextSize).toBe(oracle.contextSize);
    // Without a limit the whole training context fits.
    expect((await estimateMemory(longContext, { contextSize: 'auto' })).contextSize).toBe(32768);
    expect(fitParams(longContext, []).contextSize).toBe(32768);
  });

  test('a context that cannot fit is INSUFFICIENT_MEMORY before anything is allocated', async () => {
    const before = addon().stats();
    const error = await LlamaModel.load(longContext, { contextSize: 32768, memoryLimit: limit, ...unmapped }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(LlamaError);
    expect(error.code).toBe('INSUFFICIENT_MEMORY');
    expect(error.message).toMatch(
      new RegExp(
        `^the model does not fit in this machine's memory with a context of 32768 tokens: it needs ${SIZE} ` +
          `\\(model ${SIZE}, context ${SIZE}, compute ${SIZE}\\) and may use ${SIZE}$`,
      ),
    );
    const after = addon().stats();
    expect(after.contexts.made).toBe(before.contexts.made);
    expect(after.models.made - after.models.freed).toBe(before.models.made - before.models.freed);
    // estimateMemory says the same, without throwing.
    const estimate = await estimateMemory(longContext, { contextSize: 32768, memoryLimit: limit, ...unmapped });
    expect(estimate).toMatchObject({ fits: false, reason: error.message, contextSize: 32768 });
    // Not even the smallest automatic context: the same code, at 4096 tokens.
    const tiny = await LlamaModel.load(longContext, { contextSize: 'auto', memoryLimit: 1 * MiB }).catch((e) => e);
    expect(tiny.code).toBe('INSUFFICIENT_MEMORY');
    expect(tiny.message).toContain('with a context of 4096 tokens');
    expect(fitParams.bind(null, longContext, ['-fitt', String(Math.floor(total / MiB) - 1)])).toThrow(/exited with 1/);
    // The process is healthy: the same model loads within the limit.
    await using model = await LlamaModel.load(longContext, { contextSize: 4096, memoryLimit: limit, threads: 2 });
    expect((await model.generate('Hello', { maxTokens: 4, temperature: 0 })).tokens).toHaveLength(4);
  });

  test('weights mapped from the file (useMmap, the default) need no memory of their own', async () => {
    const full = await estimateMemory(longContext, { contextSize: 32768 });
    const buffers = full.host.context + full.host.compute;
    // Room for the context and compute buffers, not for the weights as well.
    const memoryLimit = buffers + full.host.model / 2;
    const mapped = await estimateMemory(longContext, { contextSize: 'auto', memoryLimit });
    expect(mapped).toMatchObject({ fits: true, contextSize: 32768 });
    await using model = await LlamaModel.load(longContext, { contextSize: 'auto', memoryLimit, threads: 2 });
    expect(model.contextSize).toBe(32768);
    const { host } = model.info.memory!;
    expect(host.context + host.compute).toBeLessThanOrEqual(memoryLimit);
    expect(used(host)).toBeGreaterThan(memoryLimit);
    // Read into memory instead, they count: a smaller context.
    const read = await estimateMemory(longContext, { contextSize: 'auto', memoryLimit, useMmap: false });
    expect(read.fits).toBe(true);
    expect(read.contextSize).toBeLessThan(32768);
    // What does not fit says so.
    const error = await LlamaModel.load(longContext, { contextSize: 32768, memoryLimit: buffers / 2 }).catch((e) => e);
    expect(error.code).toBe('INSUFFICIENT_MEMORY');
    expect(error.message).toMatch(
      new RegExp(
        `^the model does not fit in this machine's memory with a context of 32768 tokens: it needs ${SIZE} ` +
          `\\(context ${SIZE}, compute ${SIZE}; its weights, ${SIZE}, are mapped from the file\\) and may use ${SIZE}$`,
      ),
    );
  });
});

describe("gpuLayers 'auto' on an RPC server's device", () => {
  let server: RpcServer;
  let endpoint = '';
  let free = 0;
  let limit = 0;
  let margin = 0;

  beforeAll(async () => {
    server = await startRpcServer({ port: 0, threads: 1 });
    endpoint = server.endpoint;
    // Halfway between the output layer alone (its logits' compute buffer is most of it) and all.
    const one = await estimateMemory(wideLayers, { contextSize: 2048, rpcServers: [endpoint], gpuLayers: 1 });
    const all = await estimateMemory(wideLayers, { contextSize: 2048, rpcServers: [endpoint], gpuLayers: 'all' });
    const [device] = all.devices;
    free = device!.free;
    const halfway = used(one.devices[0]!) + (used(device!) - used(one.devices[0]!)) / 2;
    margin = Math.ceil((free - halfway) / MiB);
    limit = free - margin * MiB;
  });

  afterAll(async () => {
    await server?.close();
  });

  test('offloads the layers llama.cpp fits, and computes what the CPU computes', async () => {
    const oracle = fitParams(wideLayers, ['-c', '2048', '--rpc', endpoint, '-fitt', String(margin)]);
    console.log(
      `[gpuLayers 'auto'] memoryLimit ${limit} B on ${endpoint}: llama-fit-params → -ngl ${oracle.gpuLayers}`,
    );
    expect(oracle.gpuLayers).toBeGreaterThan(1);
    expect(oracle.gpuLayers).toBeLessThan(7);
    const options = { contextSize: 2048, rpcServers: [endpoint], memoryLimit: limit, threads: 2 };
    const estimate = await estimateMemory(wideLayers, options);
    expect(estimate).toMatchObject({ fits: true, gpuLayers: { offloaded: oracle.gpuLayers, total: 7 } });
    await using model = await LlamaModel.load(wideLayers, options);
    expect(model.info.gpuLayers).toEqual({ offloaded: oracle.gpuLayers, total: 7 });
    const device = model.info.memory!.devices[0]!;
    expect(device.name).toBe(estimate.devices[0]!.name);
    expect(used(device)).toBeLessThanOrEqual(limit);
    expectClose(estimate, model.info.memory!, 'wideLayers on RPC');
    await using local = await LlamaModel.load(wideLayers, { contextSize: 2048, threads: 2 });
    const greedy = { maxTokens: 8, temperature: 0 };
    expect((await model.generate('Once upon', greedy)).tokens).toEqual(
      (await local.generate('Once upon', greedy)).tokens,
    );
  });

  test("every layer asked for, beyond the limit: INSUFFICIENT_MEMORY naming the device; 'auto' loads", async () => {
    const options = { contextSize: 2048, rpcServers: [endpoint], memoryLimit: limit, threads: 2 };
    const error = await LlamaModel.load(wideLayers, { ...options, gpuLayers: 'all' }).catch((e) => e);
    expect(error.code).toBe('INSUFFICIENT_MEMORY');
    expect(error.message).toMatch(
      new RegExp(
        '^the model does not fit in device memory with every layer offloaded and a context of 2048 tokens: ' +
          `RPC\\S+ \\(.*\\) needs ${SIZE} \\(model ${SIZE}, context ${SIZE}, compute ${SIZE}\\) and may use ${SIZE}$`,
      ),
    );
    expect((await estimateMemory(wideLayers, { ...options, gpuLayers: 'all' })).reason).toBe(error.message);
    expect(
      fitParams.bind(null, wideLayers, ['-c', '2048', '-ngl', '99', '--rpc', endpoint, '-fitt', String(margin)]),
    ).toThrow(/exited with 1/);
    const counted = await LlamaModel.load(wideLayers, { ...options, gpuLayers: 2 });
    expect(counted.info.gpuLayers.offloaded).toBe(2);
    await counted.dispose();
  });
});

describe('LocalProvider', () => {
  test("takes contextSize and gpuLayers 'auto'", async () => {
    const provider = new LocalProvider({ modelPath: longContext, contextSize: 'auto', gpuLayers: 'auto', threads: 2 });
    try {
      // Loaded with the plan's context; one token cannot complete a posting's JSON.
      await expect(provider.parseJob('Engineer wanted.', { maxTokens: 1 })).rejects.toMatchObject({
        code: 'INVALID_OUTPUT',
      });
    } finally {
      await provider.unload();
    }
    expect(() => new LocalProvider({ modelPath: longContext, contextSize: 'most' as never })).toThrow(
      /contextSize must be a positive integer/,
    );
  });
});

describe('plans and the logger', () => {
  test("a plan's trial loads log at debug, not as a load's info lines", async () => {
    const lines: Array<[string, string]> = [];
    setLogger((level, message) => lines.push([level, message]));
    try {
      setLogLevel('info');
      await estimateMemory(wideLayers, { contextSize: 1024 });
      expect(lines).toEqual([]);
      setLogLevel('debug');
      await estimateMemory(wideLayers, { contextSize: 1024 });
      expect(lines.some(([level, message]) => level === 'debug' && message.includes('print_info: file size'))).toBe(
        true,
      );
      expect(lines.filter(([level]) => level !== 'debug')).toEqual([]);
    } finally {
      setLogger(null);
      setLogLevel('error');
    }
  });

  test('plans beside generation that logs on other threads: every plan alike, the process lives', async () => {
    let count = 0;
    setLogger(() => {
      count += 1;
    });
    setLogLevel('debug');
    try {
      await using model = await LlamaModel.load(testModelPath('spmF32'), { contextSize: 512, threads: 1 });
      const reference = await estimateMemory(wideLayers, { contextSize: 1024 });
      const generations = Array.from({ length: 4 }, () =>
        model.generate('Hello there', { maxTokens: 24, ignoreEos: true }),
      );
      const plans = Array.from({ length: 12 }, (_, i) =>
        estimateMemory(i % 2 === 0 ? wideLayers : longContext, { contextSize: 1024 }),
      );
      const done = await Promise.all(plans);
      for (const result of await Promise.all(generations)) expect(result.tokens).toHaveLength(24);
      for (const [i, plan] of done.entries()) {
        if (i % 2 === 0) expect(plan).toEqual(reference);
        else expect(plan.fits).toBe(true);
      }
      expect(count).toBeGreaterThan(0);
    } finally {
      setLogger(null);
      setLogLevel('error');
    }
  });
});
