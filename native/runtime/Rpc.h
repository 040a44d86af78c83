// ggml's RPC server: this machine's devices served to llama.cpp clients on other machines (their
// models' layers computed here). Thread-agnostic; the server blocks the thread that runs it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ggml-backend.h"

namespace llama_napi {

/** The devices `names` name (ggml's device names, e.g. "CPU", "CUDA0"), or with none the ones
 *  llama.cpp's rpc-server picks: its GPUs, else the CPU. Sets `error` (and returns none) for a name
 *  no device has, or when ggml has no RPC backend. */
std::vector<ggml_backend_dev_t> RpcDevices(const std::vector<std::string> & names, std::string & error);

/** Serves `devices` at `endpoint` ("host:port") with ggml_backend_rpc_start_server, found through
 *  the RPC backend's registry (a module in a dynamic build). Returns only when the server cannot go
 *  on (the address cannot be bound, say); ggml then has said why on stderr. */
void ServeRpc(const std::string & endpoint, const std::string & cache_dir, size_t threads,
              std::vector<ggml_backend_dev_t> devices);

/** The devices of the RPC server at `endpoint` (ggml_backend_rpc_add_server: connects once, and
 *  keeps them for the process; never registered globally, so only models that name the server use
 *  it). Sets `error` and returns none when the server cannot be reached or serves no device. */
std::vector<ggml_backend_dev_t> RpcServerDevices(const std::string & endpoint, std::string & error);

/** How many times a connection to `endpoint` has failed in this process (our ggml patch
 *  rpc-client-failure counts them); 0 without an RPC backend. Any thread. */
uint64_t RpcFailures(const std::string & endpoint);

}  // namespace llama_napi
