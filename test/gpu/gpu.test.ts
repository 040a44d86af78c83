// The GPU offload path, on the GPU machine with a CUDA build (scripts/device/gpu.sh; never in CI):
// the device is seen, layers go where gpuLayers says (as llama.cpp itself reports), greedy output
// equals llama.cpp's own llama-simple on the same GPU, an impossible context is a typed error, GPU
// memory comes back after dispose, and parallel sequences give each request's own output.
import { spawnSync } from 'node:child_process';

import { afterEach, describe, expect, test } from 'vitest';

import {
  buildInfo,
  estimateMemory,
  LlamaError,
  LlamaModel,
  listDevices,
  setLogger,
  setLogLevel,
  supportsGpuOffload,
  type Device,
} from '../../lib/index.js';
import { testModelPath } from '../fixtures/models.js';
import { pieceBytes } from '../fixtures/pieces.js';
import { gpuBigModel, gpuStoriesPath, llamaSimpleGpuPath } from './paths.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function gpuDevice(): Promise<Device> {
  const device = (await listDevices()).find((d) => d.type === 'gpu');
  if (!device) throw new Error('no GPU device is visible');
  return device;
}

/** llama-simple -ngl 99 (all layers on the GPU) from the addon's CUDA build: its stdout bytes. */
function llamaSimpleGpu(model: string, prompt: string, maxTokens: number): Buffer {
  const run = spawnSync(llamaSimpleGpuPath, ['-m', model, '-ngl', '99', '-n', String(maxTokens), prompt], {
    maxBuffer: 1 << 24,
  });
  if (run.status !== 0) throw new Error(`llama-simple exited with ${run.status}: ${run.stderr.toString()}`);
  return run.stdout;
}

afterEach(() => {
  setLogger(null);
  setLogLevel('error');
});

describe('CUDA build on a GPU', () => {
  test('the build and the device: cuda, offload supported, the GPU listed with its memory', async () => {
    expect((await buildInfo()).gpu).toBe('cuda');
    expect(await supportsGpuOffload()).toBe(true);
    const device = await gpuDevice();
    expect(device.backend).toBe('CUDA');
    expect(device.memoryTotal).toBeGreaterThan(1 << 30);
    expect(device.memoryFree).toBeGreaterThan(0);
  });

  // spmF32 has 2 layers: with the output layer, 3 can be offloaded.
  test.each([
    ['all', 3],
    [1, 1],
    [0, 0],
  ] as const)(
    'gpuLayers %s: model.info says %i of 3 layers offloaded, as llama.cpp logs it',
    async (gpuLayers, offloaded) => {
      const lines: string[] = [];
      setLogLevel('info');
      setLogger((_level, message) => lines.push(message));
      await using model = await LlamaModel.load(testModelPath('spmF32'), { gpuLayers, contextSize: 256 });
      await sleep(50); // log lines reach the logger shortly after they are logged
      expect(model.info.gpuLayers).toEqual({ offloaded, total: 3 });
      expect(lines.find((line) => /offloaded \d+\/\d+ layers to GPU/.test(line))).toContain(
        `offloaded ${offloaded}/3 layers to GPU`,
      );
      expect((await model.generate('Hello', { temperature: 0, maxTokens: 4 })).tokens).toHaveLength(4);
    },
  );

  test.skipIf(gpuStoriesPath === undefined)(
    'stories260K with every layer on the GPU prints what llama-simple -ngl 99 prints',
    async () => {
      const path = gpuStoriesPath!;
      const prompt = 'One day, a little boy named Tim';
      const expected = llamaSimpleGpu(path, prompt, 200);
      await using model = await LlamaModel.load(path, { gpuLayers: 'all', contextSize: 512 });
      expect(model.info.gpuLayers).toEqual({ offloaded: 6, total: 6 });
      const result = await model.generate(prompt, { temperature: 0, maxTokens: 200 });
      const promptTokens = await model.tokenize(prompt, { parseSpecial: true });
      const ours = Buffer.concat([
        await pieceBytes(path, promptTokens, true),
        await pieceBytes(path, result.tokens, true),
        Buffer.from('\n'),
      ]);
      expect(ours.toString('utf8')).toBe(expected.toString('utf8'));
    },
  );

  test.each(['spmF32', 'spmF16'] as const)(
    'generated model %s on the GPU: the tokens of llama-simple -ngl 99',
    async (name) => {
      const path = testModelPath(name);
      const prompt = 'Hello my name is';
      const expected = llamaSimpleGpu(path, prompt, 32);
      await using model = await LlamaModel.load(path, { gpuLayers: 'all', contextSize: 256 });
      const result = await model.generate(prompt, { temperature: 0, maxTokens: 32 });
      const promptTokens = await model.tokenize(prompt, { parseSpecial: true });
      const ours = Buffer.concat([
        await pieceBytes(path, promptTokens, true),
        await pieceBytes(path, result.tokens, true),
        Buffer.from('\n'),
      ]);
      expect(ours.toString('utf8')).toBe(expected.toString('utf8'));
    },
  );

  test('a context far too large for the GPU is INSUFFICIENT_MEMORY before allocating; the GPU works on', async () => {
    // 16 layers × 2 × 2048 × 2 bytes of KV cache per token: 2^24 tokens want ~2 TiB.
    const error = await LlamaModel.load(gpuBigModel, { gpuLayers: 'all', contextSize: 1 << 24 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LlamaError);
    expect((error as LlamaError).code).toBe('INSUFFICIENT_MEMORY');
    expect((error as LlamaError).message).toMatch(/^the model does not fit in device memory .*CUDA0 \(/);
    await using model = await LlamaModel.load(gpuBigModel, { gpuLayers: 'all', contextSize: 512 });
    expect((await model.generate('Hello', { temperature: 0, maxTokens: 8 })).tokens).toHaveLength(8);
  });

  test(
    'dispose frees GPU memory: free memory back within 5% of the footprint ' + 'after 20 load/dispose cycles',
    async () => {
      const cycle = async (measure: boolean) => {
        const model = await LlamaModel.load(gpuBigModel, { gpuLayers: 'all', contextSize: 2048 });
        await model.generate('Hello', { temperature: 0, maxTokens: 4 });
        const during = measure ? (await gpuDevice()).memoryFree : 0;
        await model.dispose();
        return during;
      };
      await cycle(false); // the CUDA context and cuBLAS handles stay for the process: made once here
      const before = (await gpuDevice()).memoryFree;
      const during = await cycle(true);
      const footprint = before - during;
      expect(footprint).toBeGreaterThan(400 * 1048576); // ~0.6 GB of weights, and the KV cache
      for (let i = 1; i < 20; i++) await cycle(false);
      const after = (await gpuDevice()).memoryFree;
      console.log(
        `[gpu] footprint ${(footprint / 1048576).toFixed(0)} MiB; free before ${(before / 1048576).toFixed(0)} MiB, ` +
          `after 20 cycles ${(after / 1048576).toFixed(0)} MiB`,
      );
      expect(before - after).toBeLessThan(0.05 * footprint);
    },
  );

  test("gpuLayers 'auto' under a memoryLimit of half the model: a partial offload, as estimated", async () => {
    const all = await estimateMemory(gpuBigModel, { gpuLayers: 'all', contextSize: 2048 });
    const device = all.devices.find((d) => d.name.startsWith('CUDA'))!;
    const full = device.model + device.context + device.compute;
    const memoryLimit = Math.floor(full / 2);
    const options = { contextSize: 2048, memoryLimit };
    const estimate = await estimateMemory(gpuBigModel, options);
    await using model = await LlamaModel.load(gpuBigModel, options);
    const { offloaded, total } = model.info.gpuLayers;
    console.log(`[gpu] memoryLimit ${memoryLimit} B of ${full} B: ${offloaded}/${total} layers on the GPU`);
    expect(offloaded).toBeGreaterThan(0);
    expect(offloaded).toBeLessThan(total);
    expect(estimate.gpuLayers).toEqual(model.info.gpuLayers);
    const used = model.info.memory!.devices.find((d) => d.name === device.name)!;
    expect(used.model + used.context + used.compute).toBeLessThanOrEqual(memoryLimit);
    const planned = estimate.devices.find((d) => d.name === device.name)!;
    for (const part of ['model', 'context', 'compute'] as const) {
      expect(Math.abs(planned[part] - used[part])).toBeLessThanOrEqual(Math.max(0.1 * used[part], 1 << 20));
    }
    expect((await model.generate('Hello', { temperature: 0, maxTokens: 8 })).tokens).toHaveLength(8);
    // Without a limit every layer fits the GPU.
    await using whole = await LlamaModel.load(gpuBigModel, { contextSize: 2048 });
    expect(whole.info.gpuLayers.offloaded).toBe(whole.info.gpuLayers.total);
  });

  test("parallel sequences on the GPU: four concurrent requests give each one's solo output", async () => {
    const path = gpuStoriesPath ?? testModelPath('spmF32');
    await using model = await LlamaModel.load(path, { gpuLayers: 'all', contextSize: 256, sequences: 4 });
    const prompts = ['Once upon a time', 'The cat', 'Lily wanted', 'One day, Tom'];
    const solo = [];
    for (const prompt of prompts) solo.push((await model.generate(prompt, { temperature: 0, maxTokens: 32 })).tokens);
    const together = await Promise.all(
      prompts.map((prompt) => model.generate(prompt, { temperature: 0, maxTokens: 32 })),
    );
    expect(together.map((result) => result.tokens)).toEqual(solo);
  });
});
