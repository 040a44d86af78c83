// The one way the scripts build this CMakeLists.txt with cmake-js: against the llama.cpp tree that
// vendor/materialize.mjs names (the pin, materialized first when needed, or LLAMA_CPP_DIR), into a
// build folder of the caller's. Used by the install build (build-native.mjs), the prebuild, the
// sanitizer build, the CUDA check, the device kit and bench/builds.mjs.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** The llama.cpp source tree to build against. */
export function llamaCppDir() {
  return execFileSync(process.execPath, [join(root, 'vendor', 'materialize.mjs'), '--print-dir'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/**
 * `cmake-js build` of the addon (and llama.cpp with it) into `out`: `defines` become CMake cache
 * entries (`{ LLAMA_NAPI_GPU: 'cuda' }` → `--CDLLAMA_NAPI_GPU=cuda`), `args` are passed as they are
 * (scripts/gpu-options.mjs gives them), `target` builds that target only; `quiet` drops the
 * compiler's progress (stdout), keeping its errors.
 */
export function cmakeJsBuild(
  out,
  { defines = {}, args = [], config = 'Release', target, env = process.env, quiet = false } = {},
) {
  const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  execFileSync(
    process.execPath,
    [
      cmakeJs,
      'build',
      '--directory',
      root,
      '--out',
      out,
      '--config',
      config,
      `--CDLLAMA_CPP_DIR=${llamaCppDir()}`,
      ...Object.entries(defines).map(([name, value]) => `--CD${name}=${value}`),
      ...args,
      ...(target ? ['--target', target] : []),
    ],
    { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit', env },
  );
}
