// What a prebuilt device kit (scripts/device/kit.mjs) was built from: a SHA-256 over the files that
// decide the native build — CMakeLists.txt, native/, the llama.cpp pin, the GPU build options — and
// the kit's CUDA architectures. gpu.sh compares it with the tree it runs in, and builds from source
// when they differ, so a kit built before a change to native/ is never what gets tested.
//
// Usage: node scripts/device/fingerprint.mjs [archs]   (prints the fingerprint)
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The files that decide the native build, repo-relative and sorted. */
export function buildInputs() {
  const files = ['CMakeLists.txt', 'vendor/llama.cpp.pin.json', 'scripts/gpu-options.mjs'];
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.push(relative(root, join(root, path)));
    }
  };
  walk('native');
  return files.sort();
}

/** SHA-256 (hex) of the build inputs' paths and bytes, and of `archs`. */
export function fingerprint(archs) {
  const hash = createHash('sha256');
  hash.update(`archs ${archs}\n`);
  for (const file of buildInputs()) {
    const bytes = readFileSync(join(root, file));
    hash.update(`${file} ${bytes.length}\n`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(fingerprint(process.argv[2] ?? '90-real'));
}
