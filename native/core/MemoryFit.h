// Memory planning through llama.cpp's common/fit: what a model and its context would take on each
// device and on the host (a no_alloc load), the layers and context size that fit free memory
// (common_fit_params), and what a live context took.
// Contract: any thread. Planning calls take turns in the process (common/fit keeps static state);
// their llama.cpp log lines are demoted to debug, and their warnings become part of an error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/Errors.h"
#include "llama.h"

namespace llama_napi {

/** Bytes one device (or the host) holds for a model, its context and compute buffers. */
struct DeviceMemory {
    std::string name;         // ggml's device name ("CUDA0", "RPC0[host:port]"); "CPU" for the host
    std::string description;  // the device's own description
    int64_t free = 0;         // free memory when measured (common/fit weighs the host's total)
    int64_t total = 0;
    uint64_t model = 0;
    uint64_t context = 0;  // the KV cache and recurrent state
    uint64_t compute = 0;
};

/** The devices the model uses, in llama.cpp's order, then the host. */
struct MemoryBreakdown {
    std::vector<DeviceMemory> devices;
    DeviceMemory host;
    int32_t layers = 0;  // the model's layers (llama_model_n_layer)
};

/** What to fit and within what. */
struct FitRequest {
    bool auto_layers = false;   // choose n_gpu_layers (else the caller's count is kept)
    bool auto_context = false;  // choose n_ctx (else the caller's is kept)
    /** Bytes each device may use: none = its free memory; one value = every device; else one per
     *  device. Without devices, the first value limits the host's memory. */
    std::vector<uint64_t> limit;
    /** Bytes to leave free on each device (the same forms); none = llama.cpp's 1 GiB. */
    std::vector<uint64_t> reserve;
    /** The smallest context an automatic size may shrink to (llama.cpp's --fit-ctx). */
    uint32_t min_context = 4096;
    /** With n_ctx 0 and !auto_context: each sequence gets the training context, at most this many
     *  tokens (read from the file's metadata before the plan). */
    uint32_t default_context = 0;
    /** A draft model sharing the devices (empty: none), its context following the main one's. */
    std::string draft_path;
    llama_model_params draft_model{};
    llama_context_params draft_context{};
};

/** Arrays the fitted llama_model_params point into: keep it alive until the model is loaded. */
struct FitBuffers {
    std::vector<float> split;
    std::vector<llama_model_tensor_buft_override> overrides;
};

/** How a fit ended. */
struct FitOutcome {
    bool fits = true;
    ErrorCode code = ErrorCode::InsufficientMemory;  // when !fits
    std::string message;                             // when !fits
};

/** Projects `mparams` + `cparams` at `path` with llama.cpp's no_alloc load. False (with `error`)
 *  when llama.cpp cannot load the model or make the context. */
bool MeasureMemory(const std::string & path, const llama_model_params & mparams, const llama_context_params & cparams,
                   MemoryBreakdown & out, std::string & error);

/** Fits `mparams` (layers, split, overrides into `buffers`) and `cparams` (n_ctx) to free memory
 *  with common_fit_params, as `request` asks. An explicit layer count of -1 (all) is kept as all.
 *  When nothing fits: fits = false, INSUFFICIENT_MEMORY with what each device needs and may use.
 *  A model llama.cpp cannot read is not judged: fits = true, the params as they were (the load
 *  then reports its own error). */
FitOutcome FitToMemory(const std::string & path, llama_model_params & mparams, llama_context_params & cparams,
                       const FitRequest & request, FitBuffers & buffers);

/** What a live context and its model hold (llama_get_memory_breakdown). */
MemoryBreakdown ContextMemory(const llama_context * ctx);

}  // namespace llama_napi
