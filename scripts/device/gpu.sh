#!/usr/bin/env bash
# Runs on a CUDA machine (no Node needed there), in one go, over what scripts/device/pack.mjs packed:
# gets a CUDA build of the addon and of llama.cpp's llama-simple, llama-bench and llama-quantize
# (sm_90 for the H100/H200), writes the benchmark models, runs the GPU tests (vitest.gpu.config.ts),
# the GPU benchmark (bench/gpu.mjs) and a short compute-sanitizer memcheck run. Results go to $OUT
# (default .dev/out), written as each phase ends: device.log, build.log,
# gpu-tests.txt/.json, gpu-bench.md/.json, memcheck.txt.
#
# The build: the prebuilt kit (.dev/device/cuda-kit.tar.xz, scripts/device/kit.mjs) when it is
# there, was built from this tree's native sources (its fingerprint) and sees the GPU; else the
# addon is compiled here from the carried llama.cpp sources (~5 minutes of the device's 16 cores).
#
# Usage: bash scripts/device/gpu.sh [build] [test] [bench] [memcheck]   (default: all, in this order)
# A phase that fails is reported and the next runs; the exit status is 1 if any failed. The device
# tool stops a call at 10 minutes: memcheck, the slowest and last, gets what is left of
# LLAMA_NAPI_DEVICE_BUDGET seconds (default 540) and is cut short rather than the call.
# LLAMA_NAPI_DEVICE_DRY_RUN=1 runs it on a machine without a GPU, to check the script itself: the
# kit is taken without its GPU check, and the CUDA-only tests and the bench fail there, as they must.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
pack=$root/.dev/device
out=${OUT:-$root/.dev/out}
mkdir -p "$out"
started=$(date +%s)
say() { echo "[device +$(( $(date +%s) - started ))s] $*" | tee -a "$out/device.log"; }
phases=${*:-build test bench memcheck}
budget=${LLAMA_NAPI_DEVICE_BUDGET:-540}

# What the machine lacks: Node (one binary), node_modules, llama.cpp's sources.
if [ ! -x /tmp/llama-napi-node/bin/node ]; then
  mkdir -p /tmp/llama-napi-node/bin
  xz -dc "$pack/node.xz" > /tmp/llama-napi-node/bin/node && chmod +x /tmp/llama-napi-node/bin/node
fi
export PATH=/tmp/llama-napi-node/bin:/usr/local/cuda/bin:$PATH
# The CUDA runtime and cuBLAS of the machine's toolkit, for the kit (built elsewhere).
export LD_LIBRARY_PATH=/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
[ -d node_modules/vitest ] || tar -xJf "$pack/node_modules.tar.xz"
# The SPM vocabulary (bench models) travels in the sources' tarball, or beside the kit.
unpack_sources() {
  if [ ! -f vendor/llama.cpp/include/llama.h ] && [ -f "$pack/llama.cpp.tar.xz" ]; then
    mkdir -p vendor/llama.cpp && tar -xJf "$pack/llama.cpp.tar.xz" -C vendor/llama.cpp
  fi
  if [ ! -f vendor/llama.cpp/models/ggml-vocab-llama-spm.gguf ] && [ -f "$pack/ggml-vocab-llama-spm.gguf" ]; then
    mkdir -p vendor/llama.cpp/models && cp "$pack/ggml-vocab-llama-spm.gguf" vendor/llama.cpp/models/
  fi
}
unpack_sources
export LLAMA_NAPI_GPU=cuda
export LLAMA_NAPI_CUDA_ARCHS=${LLAMA_NAPI_CUDA_ARCHS:-90}
say "node $(node --version); $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -1); $(nproc) cores"

# The kit: unpacked into build/Release (the addon, llama and ggml's libraries and modules, the three
# tools); used if it was built from these native sources and its addon lists a CUDA device.
use_kit() {
  rm -rf build && mkdir -p build/Release && tar -xJf "$pack/cuda-kit.tar.xz" -C build/Release || return 1
  local built here
  built=$(node -p "require('./build/Release/kit.json').fingerprint")
  here=$(node scripts/device/fingerprint.mjs "$(node -p "require('./build/Release/kit.json').archs")")
  if [ "$built" != "$here" ]; then
    say "the kit was built from other native sources (${built:0:12}, here ${here:0:12}): building from source"
    rm -rf build
    return 1
  fi
  # A CUDA library the loader cannot find (a toolkit laid out otherwise): look for it on the machine.
  local missing dir
  for missing in $(ldd build/Release/libggml-cuda.so 2>/dev/null | awk '/not found/ { print $1 }'); do
    dir=$(find /usr/local /usr/lib /opt -name "$missing" -print -quit 2>/dev/null | xargs -r dirname)
    if [ -n "$dir" ]; then
      say "$missing found in $dir"
      export LD_LIBRARY_PATH=$dir:$LD_LIBRARY_PATH
    fi
  done
  if [ -n "${LLAMA_NAPI_DEVICE_DRY_RUN:-}" ]; then
    say "dry run (LLAMA_NAPI_DEVICE_DRY_RUN): the kit is used without looking for a GPU"
    return 0
  fi
  if ! node --input-type=module -e "
      const { listDevices, supportsGpuOffload } = await import('./dist/index.js');
      const gpus = (await listDevices()).filter((d) => d.type === 'gpu');
      console.log('[device] kit devices: ' + JSON.stringify(gpus.map((d) => d.description || d.name)));
      process.exit(gpus.length > 0 && (await supportsGpuOffload()) ? 0 : 1);" 2>&1 | tee -a "$out/device.log"; then
    say "the kit's addon sees no GPU; what its CUDA module links against:"
    ldd build/Release/libggml-cuda.so 2>&1 | grep -E "cuda|cublas|not found" | tee -a "$out/device.log"
    rm -rf build
    return 1
  fi
}

status=0
for phase in $phases; do
  case $phase in
    build)
      if [ -f "$pack/cuda-kit.tar.xz" ] && use_kit; then
        say "build: the prebuilt kit ($(node -p "const k = require('./build/Release/kit.json'); 'CUDA ' + k.cuda + ', archs ' + k.archs + ', built ' + k.built"))"
      else
        [ -f vendor/llama.cpp/include/llama.h ] || { say "build: no kit to use and no llama.cpp sources ($pack/llama.cpp.tar.xz)"; exit 1; }
        say "build: the addon with CUDA, then llama-simple, llama-bench and llama-quantize"
        if ! node scripts/build-native.mjs > "$out/build.log" 2>&1 ||
           ! cmake --build build --target llama-simple llama-bench llama-quantize --parallel >> "$out/build.log" 2>&1; then
          say "build failed; the end of build.log:"
          tail -30 "$out/build.log"
          exit 1
        fi
        say "build done"
      fi
      say "writing the benchmark models"
      node bench/gpu.mjs --prepare 2>&1 | tee -a "$out/device.log" || { say "model preparation failed"; exit 1; }
      ;;
    test)
      say "test: vitest --config vitest.gpu.config.ts"
      node node_modules/vitest/vitest.mjs run --config vitest.gpu.config.ts --reporter=default --reporter=json \
        --outputFile="$out/gpu-tests.json" > "$out/gpu-tests.txt" 2>&1 || status=1
      grep -E "✓|×|Test Files|Tests |FAIL|Error" "$out/gpu-tests.txt" | tail -40
      ;;
    bench)
      say "bench: ours next to llama-bench -ngl 99"
      node bench/gpu.mjs --out "$out" 2>&1 | tee -a "$out/device.log" || status=1
      ;;
    memcheck)
      model=$pack/stories260K.gguf
      [ -f "$model" ] || model=test/.models/spmF32.gguf
      left=$(( budget - ($(date +%s) - started) ))
      if [ "$left" -lt 30 ]; then
        say "memcheck: skipped, ${left}s left of the ${budget}s budget"
        status=1
        continue
      fi
      say "memcheck: compute-sanitizer --tool memcheck, a short run on $(basename "$model") (at most ${left}s)"
      timeout "$left" compute-sanitizer --tool memcheck --error-exitcode 7 node scripts/device/memcheck.mjs "$model" > "$out/memcheck.txt" 2>&1
      code=$?
      [ "$code" -eq 124 ] && say "memcheck: cut short at ${left}s"
      [ "$code" -eq 0 ] || status=1
      tail -6 "$out/memcheck.txt"
      ;;
    *)
      say "unknown phase $phase (build, test, bench, memcheck)"
      status=1
      ;;
  esac
done
say "done, status $status"
exit $status
