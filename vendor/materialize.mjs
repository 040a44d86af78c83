#!/usr/bin/env node
// Materializes the pinned llama.cpp into vendor/llama.cpp from the npm tarball named in
// vendor/llama.cpp.pin.json, checking the tarball's integrity, the bundle's sha256 and the commit,
// then applies our patches of upstream bugs listed in the pin (vendor/patches/, each checked
// against its sha256). The tree's stamp names the commit and the patches it carries.
//
// Usage: node vendor/materialize.mjs [--print-dir]
//   LLAMA_CPP_DIR=/path             use your own llama.cpp checkout instead (nothing is fetched)
//   LLAMA_NAPI_SOURCE_TARBALL=/path use a node-llama-cpp tarball you already have (still verified)
// Prints where llama.cpp is; --print-dir prints only that path (for other scripts).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const vendorDir = dirname(fileURLToPath(import.meta.url));
const pin = JSON.parse(readFileSync(join(vendorDir, 'llama.cpp.pin.json'), 'utf8'));
const target = join(vendorDir, 'llama.cpp');
const stampName = '.llama-napi-pin';
const printDirOnly = process.argv.includes('--print-dir');
const patches = pin.patches ?? [];
// The stamp: the commit on its first line (CMake reads it), then one line per patch applied.
const expectedStamp = [pin.llamaCpp.commit, ...patches.map((patch) => `patch ${patch.file} ${patch.sha256}`)].join('\n');

function log(message) {
  if (!printDirOnly) console.error(`[llama-napi vendor] ${message}`);
}

function fail(message) {
  console.error(`[llama-napi vendor] error: ${message}`);
  process.exit(1);
}

/** True when `dir` looks like a llama.cpp source tree we can build. */
function isLlamaCppTree(dir) {
  return existsSync(join(dir, 'include', 'llama.h')) && existsSync(join(dir, 'ggml', 'CMakeLists.txt'));
}

/** Verifies an SRI string ("sha512-<base64>") against a buffer. */
function checkIntegrity(buffer, integrity, what) {
  const [algorithm, expected] = integrity.split('-', 2);
  const actual = createHash(algorithm).update(buffer).digest('base64');
  if (actual !== expected) fail(`${what}: integrity mismatch (expected ${integrity}, got ${algorithm}-${actual})`);
}

/** Returns the tarball's bytes: from LLAMA_NAPI_SOURCE_TARBALL, the cache, or `npm pack`. */
function sourceTarball() {
  const { package: name, version, integrity } = pin.source;
  const given = process.env.LLAMA_NAPI_SOURCE_TARBALL;
  if (given) {
    log(`using tarball ${given}`);
    const bytes = readFileSync(given);
    checkIntegrity(bytes, integrity, given);
    return bytes;
  }
  const cacheDir = join(vendorDir, '.cache');
  const cached = join(cacheDir, `${name}-${version}.tgz`);
  if (existsSync(cached)) {
    const bytes = readFileSync(cached);
    try {
      checkIntegrity(bytes, integrity, cached);
      return bytes;
    } catch {
      rmSync(cached, { force: true });
    }
  }
  mkdirSync(cacheDir, { recursive: true });
  log(`fetching ${name}@${version} from the npm registry (about 35 MB, once)`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  try {
    execFileSync(npm, ['pack', `${name}@${version}`, '--pack-destination', cacheDir, '--silent', '--ignore-scripts'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      shell: process.platform === 'win32',
    });
  } catch (error) {
    fail(`npm pack ${name}@${version} failed (${error.message}); set LLAMA_NAPI_SOURCE_TARBALL or LLAMA_CPP_DIR`);
  }
  const bytes = readFileSync(cached);
  checkIntegrity(bytes, integrity, `${name}@${version}`);
  return bytes;
}

/** Reads one regular file out of an uncompressed tar archive (ustar, pax and GNU long names). */
function extractFromTar(tar, wanted) {
  let offset = 0;
  let longName = null;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (start, length) => {
      const raw = header.subarray(start, start + length);
      const end = raw.indexOf(0);
      return raw.subarray(0, end === -1 ? length : end).toString('utf8');
    };
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const prefix = field(345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = null;
    const dataStart = offset + 512;
    const data = tar.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (type === 'x') {
      const match = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (match) longName = match[1];
      continue;
    }
    if ((type === '0' || type === '\0') && name === wanted) return data;
  }
  return null;
}

function materialize() {
  const userDir = process.env.LLAMA_CPP_DIR;
  if (userDir) {
    const dir = resolve(userDir);
    if (!isLlamaCppTree(dir)) fail(`LLAMA_CPP_DIR=${userDir} is not a llama.cpp source tree (no include/llama.h)`);
    log(`using your llama.cpp at ${dir} (LLAMA_CPP_DIR); the pin is not checked`);
    return dir;
  }

  const stamp = join(target, stampName);
  if (existsSync(target)) {
    if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === expectedStamp) {
      log(`vendor/llama.cpp is at the pinned commit ${pin.llamaCpp.commit.slice(0, 12)} (${patches.length} patches)`);
      return target;
    }
    if (!existsSync(stamp)) {
      fail('vendor/llama.cpp exists but was not materialized by this script; remove it, or point LLAMA_CPP_DIR at it');
    }
    log('vendor/llama.cpp is at another pin; replacing it');
    rmSync(target, { recursive: true, force: true });
  }

  const tarball = sourceTarball();
  const bundle = extractFromTar(gunzipSync(tarball), pin.source.bundle);
  if (!bundle) fail(`${pin.source.bundle} not found in ${pin.source.package}@${pin.source.version}`);
  const bundleHash = createHash('sha256').update(bundle).digest('hex');
  if (bundleHash !== pin.source.bundleSha256) {
    fail(`bundle sha256 mismatch (expected ${pin.source.bundleSha256}, got ${bundleHash})`);
  }

  // Clone into a temporary folder and rename, so an interrupted run never leaves a half tree.
  for (const entry of readdirSync(vendorDir)) {
    if (entry.startsWith('.llama.cpp.tmp-')) rmSync(join(vendorDir, entry), { recursive: true, force: true });
  }
  const temporary = join(vendorDir, `.llama.cpp.tmp-${process.pid}`);
  mkdirSync(temporary);
  const bundleFile = join(temporary, 'llama.cpp.bundle');
  writeFileSync(bundleFile, bundle);
  const tree = join(temporary, 'tree');
  const git = (...args) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  try {
    git('clone', '--quiet', '--no-checkout', bundleFile, tree);
    git('-C', tree, '-c', 'advice.detachedHead=false', 'checkout', '--quiet', pin.llamaCpp.commit);
    const head = git('-C', tree, 'rev-parse', 'HEAD');
    if (head !== pin.llamaCpp.commit) fail(`bundle HEAD is ${head}, expected ${pin.llamaCpp.commit}`);
    for (const patch of patches) {
      const file = join(vendorDir, patch.file);
      const hash = createHash('sha256').update(readFileSync(file)).digest('hex');
      if (hash !== patch.sha256) fail(`${patch.file}: sha256 mismatch (expected ${patch.sha256}, got ${hash})`);
      git('-C', tree, 'apply', file);
    }
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    fail(`git could not unpack the llama.cpp bundle: ${error.stderr || error.message}`);
  }
  rmSync(join(tree, '.git'), { recursive: true, force: true });
  writeFileSync(join(tree, stampName), `${expectedStamp}\n`);
  renameSync(tree, target);
  rmSync(temporary, { recursive: true, force: true });
  log(
    `materialized llama.cpp ${pin.llamaCpp.release} (${pin.llamaCpp.commit.slice(0, 12)}, ` +
      `${patches.length} patches) into vendor/llama.cpp`,
  );
  return target;
}

const dir = materialize();
if (printDirOnly) process.stdout.write(`${dir}\n`);
