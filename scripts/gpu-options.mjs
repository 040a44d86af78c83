// The CMake arguments and environment a CUDA build needs, shared by the install build
// (build-native.mjs) and the CUDA check (check-gpu-build.mjs):
//   LLAMA_NAPI_CUDA_ARCHS  CMAKE_CUDA_ARCHITECTURES (e.g. 90 for an H100; default: ggml's choice,
//                          the GPUs present for a native build)
//   LLAMA_NAPI_CUBLAS_DIR  a cuBLAS outside the toolkit (include/, lib/): e.g. the contents of
//                          NVIDIA's nvidia-cublas wheel, for a toolkit installed without it
// Without the NVIDIA driver (no libcuda.so), ggml's CUDA virtual-memory pool is left out
// (GGML_CUDA_NO_VMM), since it links the driver directly.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** cmake-js arguments (`--CD…`) and the environment for building with `gpu`. */
export function gpuBuildOptions(gpu, env = process.env, defaultArchs = undefined) {
  const args = [];
  const buildEnv = { ...env };
  if (gpu !== 'cuda') return { args, env: buildEnv };
  const archs = env.LLAMA_NAPI_CUDA_ARCHS || defaultArchs;
  if (archs) args.push(`--CDCMAKE_CUDA_ARCHITECTURES=${archs}`);
  const cublas = env.LLAMA_NAPI_CUBLAS_DIR;
  if (cublas) {
    const lib = join(cublas, 'lib');
    args.push(
      `--CDCUDA_cublas_LIBRARY=${join(lib, 'libcublas.so')}`,
      `--CDCUDA_cublasLt_LIBRARY=${join(lib, 'libcublasLt.so')}`,
    );
    buildEnv.CPATH = [join(cublas, 'include'), env.CPATH].filter(Boolean).join(':');
    buildEnv.LIBRARY_PATH = [lib, env.LIBRARY_PATH].filter(Boolean).join(':');
    buildEnv.LD_LIBRARY_PATH = [lib, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  }
  const driver = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '';
  if (!/libcuda\.so/.test(driver)) {
    console.error('[llama-napi] no NVIDIA driver (libcuda.so) here: building with GGML_CUDA_NO_VMM=ON');
    args.push('--CDGGML_CUDA_NO_VMM=ON');
  }
  return { args, env: buildEnv };
}
