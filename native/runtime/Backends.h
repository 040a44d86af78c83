// ggml's backends: initialized once per process; in a build with dynamically loaded backends
// (the portable prebuild), loaded from the addon's own folder, where the best CPU variant for
// this machine is picked at load time. Also the device listing.
// Contract: any thread; EnsureBackend() is idempotent and everything else calls it first.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ggml-backend.h"
#include "ggml.h"

namespace llama_napi {

/** Loads (where dynamic) and initializes the backends, once; later calls return at once. */
void EnsureBackend();

/** Why no model can run (no backend could be loaded), or empty when at least one device exists. */
std::string BackendProblem();

/**
 * ggml's CPU thread pools. They live in the CPU backend, which the portable build loads at run time
 * (no symbol to link against): there they are found through the CPU backend's registry.
 * ThreadpoolNew returns nullptr when no CPU backend provides them.
 */
ggml_threadpool * ThreadpoolNew(ggml_threadpool_params * params);
void ThreadpoolFree(ggml_threadpool * pool);

/** A device ggml can compute on. */
struct DeviceInfo {
    std::string name;
    std::string description;
    /** cpu, gpu, igpu, accelerator or other. */
    const char * type = "other";
    /** The backend that drives it (CPU, CUDA, Vulkan, …). */
    std::string backend;
    size_t memory_total = 0;
    size_t memory_free = 0;
    /** The file the backend's code was loaded from: a module of a dynamic build, else the addon. */
    std::string library;
};

/** Whether a device llama.cpp offloads layers to exists: a GPU (an RPC server's devices count once
 *  added). llama_supports_gpu_offload() also says yes for a build with the RPC backend alone. */
bool HasOffloadDevice();

/** Every device ggml can use (RPC servers' devices are not registered with ggml: not these). */
std::vector<DeviceInfo> ListDevices();

/** What ggml says of one device. */
DeviceInfo DescribeDevice(ggml_backend_dev_t device);

}  // namespace llama_napi
