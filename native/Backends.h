// ggml's backends: initialized once per process; in a build with dynamically loaded backends
// (the portable prebuild), loaded from the addon's own folder, where the best CPU variant for
// this machine is picked at load time. Also the device listing.
// Contract: EnsureBackend() from any thread (idempotent); Devices() on the main thread.
#pragma once

#include <napi.h>

#include <string>

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

/** Every device ggml can use: [{ name, description, type, backend, memoryTotal, memoryFree, library }]. */
Napi::Value Devices(Napi::Env env);

}  // namespace llama_napi
