// The llama_model_params of a load request: RPC servers' devices first, then local GPUs, as
// llama.cpp's --rpc places them, and the tensor split. Shared by loading and memory estimates.
// Contract: worker thread; the params point into the placement, which must outlive their use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/Errors.h"
#include "core/MemoryFit.h"
#include "ggml-backend.h"
#include "llama.h"
#include "workers/Workers.h"

namespace llama_napi {

struct ModelPlacement {
    llama_model_params params = llama_model_default_params();
    std::vector<ggml_backend_dev_t> devices;  // nullptr-terminated when set
    std::vector<float> split;
    FitBuffers fit;
    /** Each RPC server's failure count before the load (RpcFailures). */
    std::vector<uint64_t> rpc_failures;

    ModelPlacement() = default;
    ModelPlacement(const ModelPlacement &) = delete;
    ModelPlacement & operator=(const ModelPlacement &) = delete;
};

/** Fills `placement` for `request` (not its progress callback). False, with `failure`, when the
 *  backends could not start, an RPC server cannot be reached or tensorSplit names more devices
 *  than there are. */
bool PlaceModel(const LoadModelRequest & request, ModelPlacement & placement, NativeFailure & failure);

/** Layers llama.cpp offloads for `n_gpu_layers` of a model of `n_layer` layers (the output layer
 *  counts as one: llama_model::load_tensors), when there is a device to offload to. */
int32_t OffloadedLayers(int32_t n_gpu_layers, int32_t n_layer);

}  // namespace llama_napi
