// ggml's RPC server (see Rpc.h).
#include "runtime/Rpc.h"

#include "runtime/Backends.h"

namespace llama_napi {

namespace {

/** A function of ggml's RPC backend, found through its registry (a module in a dynamic build). */
template <typename Function>
Function RpcProc(const char * name) {
    EnsureBackend();
    ggml_backend_reg_t reg = ggml_backend_reg_by_name("RPC");
    return reg != nullptr ? reinterpret_cast<Function>(ggml_backend_reg_get_proc_address(reg, name)) : nullptr;
}

using StartServer = void (*)(const char *, const char *, size_t, size_t, ggml_backend_dev_t *);

StartServer StartServerFunction() { return RpcProc<StartServer>("ggml_backend_rpc_start_server"); }

bool IsRpc(ggml_backend_dev_t device) {
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(device);
    return reg != nullptr && std::string(ggml_backend_reg_name(reg)) == "RPC";
}

}  // namespace

std::vector<ggml_backend_dev_t> RpcDevices(const std::vector<std::string> & names, std::string & error) {
    if (StartServerFunction() == nullptr) {
        error = "this build of llama.cpp has no RPC backend";
        return {};
    }
    std::vector<ggml_backend_dev_t> devices;
    for (const std::string & name : names) {
        ggml_backend_dev_t device = ggml_backend_dev_by_name(name.c_str());
        if (device == nullptr || IsRpc(device)) {
            std::string known;
            for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
                ggml_backend_dev_t candidate = ggml_backend_dev_get(i);
                if (IsRpc(candidate)) continue;
                known += (known.empty() ? "" : ", ") + std::string(ggml_backend_dev_name(candidate));
            }
            error = "no device is named \"" + name + "\" (this machine has: " + known + ")";
            return {};
        }
        devices.push_back(device);
    }
    if (!devices.empty()) return devices;
    // As llama.cpp's rpc-server: the GPUs, else the CPU.
    for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
        ggml_backend_dev_t device = ggml_backend_dev_get(i);
        const enum ggml_backend_dev_type type = ggml_backend_dev_type(device);
        if ((type == GGML_BACKEND_DEVICE_TYPE_GPU || type == GGML_BACKEND_DEVICE_TYPE_IGPU) && !IsRpc(device)) {
            devices.push_back(device);
        }
    }
    if (devices.empty()) {
        ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
        if (cpu != nullptr) devices.push_back(cpu);
    }
    if (devices.empty()) error = "ggml has no device to serve";
    return devices;
}

std::vector<ggml_backend_dev_t> RpcServerDevices(const std::string & endpoint, std::string & error) {
    using AddServer = ggml_backend_reg_t (*)(const char *);
    static const AddServer add = RpcProc<AddServer>("ggml_backend_rpc_add_server");
    if (add == nullptr) {
        error = "this build of llama.cpp has no RPC backend";
        return {};
    }
    const uint64_t failures = RpcFailures(endpoint);
    ggml_backend_reg_t reg = add(endpoint.c_str());
    if (reg == nullptr || RpcFailures(endpoint) != failures) {
        error =
            "the RPC server " + endpoint + (reg == nullptr ? " could not be reached or serves no device" : " failed");
        return {};
    }
    std::vector<ggml_backend_dev_t> devices;
    for (size_t i = 0; i < ggml_backend_reg_dev_count(reg); ++i) {
        devices.push_back(ggml_backend_reg_dev_get(reg, i));
    }
    return devices;
}

uint64_t RpcFailures(const std::string & endpoint) {
    using GetFailures = uint64_t (*)(const char *);
    static const GetFailures get = RpcProc<GetFailures>("ggml_backend_rpc_get_failures");
    return get != nullptr ? get(endpoint.c_str()) : 0;
}

void ServeRpc(const std::string & endpoint, const std::string & cache_dir, size_t threads,
              std::vector<ggml_backend_dev_t> devices) {
    StartServer start = StartServerFunction();
    if (start == nullptr || devices.empty()) return;
    start(endpoint.c_str(), cache_dir.empty() ? nullptr : cache_dir.c_str(), threads, devices.size(), devices.data());
}

}  // namespace llama_napi
