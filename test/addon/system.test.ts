// What the build can run on: listDevices(), supportsGpuOffload(), buildInfo() — against this
// checkout's CPU-only development build (CI has no GPU).
import { readFileSync } from 'node:fs';

import { describe, expect, test } from 'vitest';

import { LlamaModel, buildInfo, listDevices, supportsGpuOffload } from '../../lib/index.js';
import { addon } from '../../lib/binding.js';
import { testModelPath } from '../fixtures/models.js';

const pin = JSON.parse(readFileSync(new URL('../../vendor/llama.cpp.pin.json', import.meta.url), 'utf8')) as {
  llamaCpp: { commit: string };
};

describe('devices and build', () => {
  test('listDevices: the CPU, described by ggml, its code in the addon itself', async () => {
    const devices = await listDevices();
    const cpu = devices.filter((device) => device.type === 'cpu');
    expect(cpu).toHaveLength(1);
    expect(cpu[0]).toMatchObject({ name: 'CPU', backend: 'CPU' });
    expect(cpu[0]!.description.length).toBeGreaterThan(0);
    expect(cpu[0]!.memoryTotal).toBeGreaterThan(1 << 30);
    expect(cpu[0]!.library).toMatch(/llama_napi\.node$|libggml-cpu-[a-z0-9_]+\.so$/);
  });

  test('buildInfo and supportsGpuOffload agree with the build', async () => {
    const info = await buildInfo();
    expect(info.llamaCppCommit).toBe(process.env.LLAMA_CPP_DIR ? 'custom' : pin.llamaCpp.commit);
    expect(info.gpu).toBe(addon().versions.gpu);
    expect(info.systemInfo).toMatch(/^CPU : /);
    const gpus = (await listDevices()).filter((device) => device.type === 'gpu' || device.type === 'igpu');
    expect(await supportsGpuOffload()).toBe(gpus.length > 0);
    if (info.gpu === 'off') expect(gpus).toEqual([]);
  });

  test("gpuLayers: 'all' on a machine without a GPU runs on the CPU", async () => {
    await using model = await LlamaModel.load(testModelPath('spmF32'), { contextSize: 64, gpuLayers: 'all' });
    await using cpuOnly = await LlamaModel.load(testModelPath('spmF32'), { contextSize: 64, gpuLayers: 0 });
    const a = await model.generate('Hello', { temperature: 0, maxTokens: 6 });
    const b = await cpuOnly.generate('Hello', { temperature: 0, maxTokens: 6 });
    expect(a.tokens).toEqual(b.tokens);
  });
});
