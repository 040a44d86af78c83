// The package as users get it: `npm pack`, then `npm install <tarball>` into an empty project
// (the npm registry is the only network), both with the prebuilt binary (nothing compiled) and
// without it (the install script builds from the llama.cpp sources packed in the tarball). Each
// install then imports llama-napi, generates greedily — the same tokens as this checkout — and
// type-checks a consumer against the installed .d.ts files. Reports the installed sizes.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { LlamaModel } from '../../lib/index.js';
import { testModelPath } from '../fixtures/models.js';
import { repoRoot } from '../fixtures/paths.js';

const model = testModelPath('spmF32');
const prompt = 'Hello my name is';
const prebuildDir = join(repoRoot, 'prebuilds', `${process.platform}-${process.arch}`);
const work = mkdtempSync(join(tmpdir(), 'llama-napi-install-'));
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

/** Bytes under a folder (files only, links not followed). */
function sizeOf(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0);
}
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

const consumerScript = `
import { LlamaModel, startRpcServer } from 'llama-napi';
import { loadAddon } from 'llama-napi/native';
const addon = loadAddon();
const model = await LlamaModel.load(${JSON.stringify(model)}, { contextSize: 128 });
const result = await model.generate(${JSON.stringify(prompt)}, { temperature: 0, maxTokens: 8 });
await model.dispose();
const server = await startRpcServer({ port: 0 });
await server.close();
console.log(JSON.stringify({
  tokens: result.tokens, text: result.text, versions: addon.versions, devices: addon.devices(), rpc: server.endpoint,
}));
`;

const consumerTypes = `
import { LlamaModel, LlamaError, setLogLevel, type GenerateResult } from 'llama-napi';
import type { NativeAddon } from 'llama-napi/native';
setLogLevel('error');
const model: LlamaModel = await LlamaModel.load('m.gguf');
const plain: GenerateResult = await model.generate('x');
const typed = await model.generate('x', {
  jsonSchema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
});
const n: number = typed.json.n;
const code: LlamaError['code'] = 'DISPOSED';
type Devices = ReturnType<NativeAddon['devices']>;
export { plain, n, code, type Devices };
`;

let expectedTokens: number[];
let tarball: string;
const sizes: Record<string, string> = {};

beforeAll(async () => {
  // The prebuilt binary, made as a release would make it (about 10 minutes the first time).
  if (!existsSync(prebuildDir) || !readdirSync(prebuildDir).some((file) => file.endsWith('.node'))) {
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'prebuild.mjs')], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', work], repoRoot)) as Array<{
    filename: string;
    size: number;
    unpackedSize: number;
  }>;
  tarball = join(work, packed[0]!.filename);
  sizes.tarball = `${mib(packed[0]!.size)} packed, ${mib(packed[0]!.unpackedSize)} unpacked`;

  await using reference = await LlamaModel.load(model, { contextSize: 128 });
  expectedTokens = (await reference.generate(prompt, { temperature: 0, maxTokens: 8 })).tokens;
}, 1_800_000);

afterAll(() => {
  console.log(
    `[install] ${Object.entries(sizes)
      .map(([key, value]) => `${key}: ${value}`)
      .join('; ')}`,
  );
  rmSync(work, { recursive: true, force: true });
});

/** A copy of the tarball without prebuilds/ (a platform with no prebuilt binary). */
function withoutPrebuilds(): string {
  const unpacked = join(work, 'unpacked');
  mkdirSync(unpacked, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', unpacked]);
  rmSync(join(unpacked, 'package', 'prebuilds'), { recursive: true, force: true });
  const stripped = join(work, 'llama-napi-source-only.tgz');
  execFileSync('tar', ['czf', stripped, '-C', unpacked, 'package']);
  return stripped;
}

function installInto(name: string, from: string): string {
  const project = join(work, name);
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module' }),
  );
  npm(['install', from], project);
  return project;
}

function runConsumer(project: string) {
  writeFileSync(join(project, 'main.mjs'), consumerScript);
  const run = spawnSync(process.execPath, ['main.mjs'], {
    cwd: project,
    encoding: 'utf8',
    env: { ...process.env, LLAMA_NAPI_LOG_LEVEL: 'error' },
  });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as {
    tokens: number[];
    text: string;
    versions: { cpuVariants: boolean; gpu: string; llamaCppCommit: string };
    devices: Array<{ type: string; library: string; name: string }>;
    rpc: string;
  };
}

function typeCheck(project: string) {
  writeFileSync(join(project, 'consumer.ts'), consumerTypes);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(repoRoot, 'node_modules', '@types')],
        lib: ['ES2022', 'ESNext.Disposable'],
      },
      files: ['consumer.ts'],
    }),
  );
  const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], {
    encoding: 'utf8',
  });
  expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
}

describe('npm pack, then npm install into an empty project', () => {
  test('with the prebuilt binary: nothing is compiled, the portable build loads the best CPU variant', () => {
    const project = installInto('prebuilt', tarball);
    const installed = join(project, 'node_modules', 'llama-napi');
    expect(existsSync(join(installed, 'build'))).toBe(false);
    expect(readdirSync(join(installed, 'prebuilds', `${process.platform}-${process.arch}`))).toEqual(
      expect.arrayContaining([
        'llama-napi.glibc.node',
        'libllama-napi-llama.so',
        'libllama-napi-ggml.so',
        'libllama-napi-ggml-base.so',
        'libggml-cpu-x64.so',
        'libggml-rpc.so',
      ]),
    );
    const out = runConsumer(project);
    expect(out.tokens).toEqual(expectedTokens);
    expect(out.rpc).toMatch(/^127\.0\.0\.1:\d+$/); // the RPC server, from the installed package
    expect(out.versions.cpuVariants).toBe(true);
    const cpu = out.devices.find((device) => device.type === 'cpu');
    expect(cpu?.library).toMatch(new RegExp(`${installed}/prebuilds/[^/]+/libggml-cpu-[a-z0-9_]+\\.so$`));
    typeCheck(project);
    sizes.prebuilt =
      `node_modules/llama-napi ${mib(sizeOf(installed))}, ` +
      `node_modules ${mib(sizeOf(join(project, 'node_modules')))}, ` +
      `CPU variant ${cpu?.library.split('/').pop()}`;
  }, 600_000);

  test('without it: the install script builds from the packed llama.cpp sources (no git, no second download)', () => {
    const project = installInto('source', withoutPrebuilds());
    const installed = join(project, 'node_modules', 'llama-napi');
    expect(existsSync(join(installed, 'prebuilds'))).toBe(false);
    expect(existsSync(join(installed, 'build', 'Release', 'llama_napi.node'))).toBe(true);
    expect(existsSync(join(installed, 'vendor', '.cache'))).toBe(false);
    const out = runConsumer(project);
    expect(out.tokens).toEqual(expectedTokens);
    expect(out.rpc).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(out.versions.cpuVariants).toBe(false);
    typeCheck(project);
    // The install keeps the built addon, not the build tree.
    expect(readdirSync(join(installed, 'build'))).toEqual(['Release']);
    expect(readdirSync(join(installed, 'build', 'Release'))).toEqual(['llama_napi.node']);
    sizes.source =
      `node_modules/llama-napi ${mib(sizeOf(installed))}, ` +
      `node_modules ${mib(sizeOf(join(project, 'node_modules')))}`;
  }, 1_200_000);
});
