// The llama_model_params of a load request (see ModelPlacement.h).
#include "workers/ModelPlacement.h"

#include <algorithm>

#include "runtime/Backends.h"
#include "runtime/Log.h"
#include "runtime/Rpc.h"

namespace llama_napi {

bool PlaceModel(const LoadModelRequest & request, ModelPlacement & placement, NativeFailure & failure) {
    const std::string problem = BackendProblem();
    if (!problem.empty()) {
        failure = NativeFailure{ ErrorCode::ModelLoadFailed, problem };
        return false;
    }
    llama_model_params & params = placement.params;
    params.n_gpu_layers = request.gpu_layers;
    params.load_mode = request.use_mmap ? LLAMA_LOAD_MODE_AUTO : LLAMA_LOAD_MODE_NONE;
    params.vocab_only = request.vocab_only;
    params.check_tensors = request.check_tensors;

    // RPC servers' devices first, then this machine's GPUs: llama.cpp's own order (llama.cpp lists
    // its registered RPC devices first). The servers are not registered with ggml, so a model that
    // does not name them never uses them.
    std::vector<ggml_backend_dev_t> & devices = placement.devices;
    if (!request.rpc_servers.empty()) {
        for (const std::string & endpoint : request.rpc_servers) {
            std::string error;
            LogCapture rpc_log;
            std::vector<ggml_backend_dev_t> remote = RpcServerDevices(endpoint, error);
            if (remote.empty()) {
                failure = NativeFailure{ ErrorCode::ModelLoadFailed,
                                         rpc_log.Describe("cannot load " + request.path + ": " + error) };
                return false;
            }
            devices.insert(devices.end(), remote.begin(), remote.end());
            placement.rpc_failures.push_back(RpcFailures(endpoint));
        }
        std::vector<ggml_backend_dev_t> local_gpus;
        std::vector<ggml_backend_dev_t> local_igpus;
        for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
            ggml_backend_dev_t device = ggml_backend_dev_get(i);
            const enum ggml_backend_dev_type type = ggml_backend_dev_type(device);
            if (type == GGML_BACKEND_DEVICE_TYPE_GPU) local_gpus.push_back(device);
            if (type == GGML_BACKEND_DEVICE_TYPE_IGPU) local_igpus.push_back(device);
        }
        const std::vector<ggml_backend_dev_t> & local = local_gpus.empty() ? local_igpus : local_gpus;
        devices.insert(devices.end(), local.begin(), local.end());
        devices.push_back(nullptr);
        params.devices = devices.data();
    }
    if (!request.tensor_split.empty()) {
        const size_t placed = devices.empty() ? ggml_backend_dev_count() : devices.size() - 1;
        if (request.tensor_split.size() > placed) {
            failure = NativeFailure{ ErrorCode::InvalidArgument,
                                     "tensorSplit has " + std::to_string(request.tensor_split.size()) +
                                         " entries for " + std::to_string(placed) + " devices" };
            return false;
        }
        placement.split.assign(llama_max_devices(), 0.0f);
        std::copy(request.tensor_split.begin(), request.tensor_split.end(), placement.split.begin());
        params.tensor_split = placement.split.data();
    }
    return true;
}

int32_t OffloadedLayers(int32_t n_gpu_layers, int32_t n_layer) {
    const int32_t offloadable = n_layer + 1;
    return n_gpu_layers < 0 ? offloadable : std::min(n_gpu_layers, offloadable);
}

}  // namespace llama_napi
