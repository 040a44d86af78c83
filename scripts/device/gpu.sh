#!/usr/bin/env bash
# Runs on the GPU machine (the `device` tool), in one call, over what scripts/device/pack.mjs packed:
# builds the addon with CUDA (LLAMA_NAPI_GPU=cuda, sm_90 for the H100/H200) and llama.cpp's
# llama-simple, llama-bench and llama-quantize in the same build directory, writes the benchmark
# models, runs the GPU tests (vitest.gpu.config.ts), a short compute-sanitizer memcheck run and the
# GPU benchmark (bench/gpu.mjs). Results go to $OUT (the device tool's folder that comes back):
# device.log, build.log, gpu-tests.txt/.json, memcheck.txt, gpu-bench.md/.json.
#
# Usage: bash scripts/device/gpu.sh [build] [test] [memcheck] [bench]   (default: all, in this order)
# A phase that fails is reported and the next runs; the exit status is 1 if any failed. The build
# stays in build/ for a call that follows while the machine is warm (30 s).
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
pack=$root/.dev/device
out=${OUT:-$root/.dev/out}
mkdir -p "$out"
started=$(date +%s)
say() { echo "[device +$(( $(date +%s) - started ))s] $*" | tee -a "$out/device.log"; }
phases=${*:-build test memcheck bench}

# What the machine lacks: Node (one binary), node_modules, llama.cpp's sources.
if [ ! -x /tmp/llama-napi-node/bin/node ]; then
  mkdir -p /tmp/llama-napi-node/bin
  xz -dc "$pack/node.xz" > /tmp/llama-napi-node/bin/node && chmod +x /tmp/llama-napi-node/bin/node
fi
export PATH=/tmp/llama-napi-node/bin:/usr/local/cuda/bin:$PATH
[ -d node_modules/vitest ] || tar -xJf "$pack/node_modules.tar.xz"
if [ ! -f vendor/llama.cpp/include/llama.h ]; then
  mkdir -p vendor/llama.cpp && tar -xJf "$pack/llama.cpp.tar.xz" -C vendor/llama.cpp
fi
export LLAMA_NAPI_GPU=cuda
export LLAMA_NAPI_CUDA_ARCHS=${LLAMA_NAPI_CUDA_ARCHS:-90}
say "node $(node --version); $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -1); $(nproc) cores"

status=0
for phase in $phases; do
  case $phase in
    build)
      say "build: the addon with CUDA, then llama-simple, llama-bench and llama-quantize"
      if ! node scripts/build-native.mjs > "$out/build.log" 2>&1 ||
         ! cmake --build build --target llama-simple llama-bench llama-quantize --parallel >> "$out/build.log" 2>&1; then
        say "build failed; the end of build.log:"
        tail -30 "$out/build.log"
        exit 1
      fi
      say "build done; writing the benchmark models"
      node bench/gpu.mjs --prepare 2>&1 | tee -a "$out/device.log" || { say "model preparation failed"; exit 1; }
      ;;
    test)
      say "test: vitest --config vitest.gpu.config.ts"
      node node_modules/vitest/vitest.mjs run --config vitest.gpu.config.ts --reporter=default --reporter=json \
        --outputFile="$out/gpu-tests.json" > "$out/gpu-tests.txt" 2>&1 || status=1
      grep -E "✓|×|Test Files|Tests |FAIL|Error" "$out/gpu-tests.txt" | tail -40
      ;;
    memcheck)
      model=$pack/stories260K.gguf
      [ -f "$model" ] || model=test/.models/spmF32.gguf
      say "memcheck: compute-sanitizer --tool memcheck, a short run on $(basename "$model")"
      compute-sanitizer --tool memcheck --error-exitcode 7 node scripts/device/memcheck.mjs "$model" > "$out/memcheck.txt" 2>&1 || status=1
      tail -6 "$out/memcheck.txt"
      ;;
    bench)
      say "bench: ours next to llama-bench -ngl 99"
      node bench/gpu.mjs --out "$out" 2>&1 | tee -a "$out/device.log" || status=1
      ;;
    *)
      say "unknown phase $phase (build, test, memcheck, bench)"
      status=1
      ;;
  esac
done
say "done, status $status"
exit $status
