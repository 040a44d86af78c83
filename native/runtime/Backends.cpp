// Backend loading and the device listing (see Backends.h).
#include "runtime/Backends.h"

#include <mutex>
#include <string>

#include "ggml-backend.h"
#include "llama.h"
#ifndef GGML_BACKEND_DL
#include "ggml-cpu.h"
#endif

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#else
#include <dlfcn.h>
#endif

namespace llama_napi {

namespace {

/** The file a function was loaded from (the addon itself, or a backend module); empty if unknown. */
std::string LibraryOf(const void * address) {
#if defined(_WIN32)
    HMODULE module = nullptr;
    if (address == nullptr ||
        !GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            reinterpret_cast<LPCWSTR>(address), &module)) {
        return {};
    }
    std::wstring wide(MAX_PATH, L'\0');
    for (;;) {
        const DWORD length = GetModuleFileNameW(module, wide.data(), static_cast<DWORD>(wide.size()));
        if (length == 0) return {};
        if (length < wide.size()) {
            wide.resize(length);
            break;
        }
        wide.resize(wide.size() * 2);  // truncated: a long path
    }
    // ggml takes paths as UTF-8.
    const int bytes =
        WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), nullptr, 0, nullptr, nullptr);
    std::string utf8(static_cast<size_t>(bytes > 0 ? bytes : 0), '\0');
    if (bytes > 0) {
        WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), utf8.data(), bytes, nullptr,
                            nullptr);
    }
    return utf8;
#else
    Dl_info info{};
    if (address != nullptr && dladdr(address, &info) != 0 && info.dli_fname != nullptr) {
        return info.dli_fname;
    }
    return {};
#endif
}

[[maybe_unused]] std::string DirectoryOf(const std::string & file) {
#if defined(_WIN32)
    const size_t slash = file.find_last_of("/\\");
#else
    const size_t slash = file.find_last_of('/');
#endif
    return slash == std::string::npos ? std::string() : file.substr(0, slash);
}

const char * TypeName(enum ggml_backend_dev_type type) {
    switch (type) {
        case GGML_BACKEND_DEVICE_TYPE_CPU: return "cpu";
        case GGML_BACKEND_DEVICE_TYPE_GPU: return "gpu";
        case GGML_BACKEND_DEVICE_TYPE_IGPU: return "igpu";
        case GGML_BACKEND_DEVICE_TYPE_ACCEL: return "accelerator";
        default: return "other";
    }
}

std::string g_problem;

}  // namespace

void EnsureBackend() {
    static std::once_flag once;
    std::call_once(once, [] {
#ifdef GGML_BACKEND_DL
        // The backends are shared libraries beside the addon (libggml-cpu-<variant>.so, …): ggml
        // scores each CPU variant against this CPU and registers the best.
        const std::string here = DirectoryOf(LibraryOf(reinterpret_cast<const void *>(&EnsureBackend)));
        ggml_backend_load_all_from_path(here.empty() ? nullptr : here.c_str());
        if (ggml_backend_dev_count() == 0) {
            g_problem = "no ggml backend could be loaded from " +
                        (here.empty() ? std::string("the addon's folder") : here) +
                        " (ggml's CPU backend modules, libggml-cpu-*.so or ggml-cpu-*.dll, must sit next to the addon)";
        }
#endif
        llama_backend_init();
    });
}

std::string BackendProblem() {
    EnsureBackend();
    return g_problem;
}

#ifdef GGML_BACKEND_DL
namespace {

/** A function of the loaded CPU backend module, by name; nullptr without one. */
void * CpuProc(const char * name) {
    EnsureBackend();
    ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    ggml_backend_reg_t reg = cpu != nullptr ? ggml_backend_dev_backend_reg(cpu) : nullptr;
    return reg != nullptr ? ggml_backend_reg_get_proc_address(reg, name) : nullptr;
}

}  // namespace

ggml_threadpool * ThreadpoolNew(ggml_threadpool_params * params) {
    using Fn = ggml_threadpool * (*)(ggml_threadpool_params *);
    static const auto fn = reinterpret_cast<Fn>(CpuProc("ggml_threadpool_new"));
    return fn != nullptr ? fn(params) : nullptr;
}

void ThreadpoolFree(ggml_threadpool * pool) {
    using Fn = void (*)(ggml_threadpool *);
    static const auto fn = reinterpret_cast<Fn>(CpuProc("ggml_threadpool_free"));
    // A pool exists only if ThreadpoolNew found the module, so fn is found too.
    if (pool != nullptr && fn != nullptr) fn(pool);
}
#else
ggml_threadpool * ThreadpoolNew(ggml_threadpool_params * params) { return ggml_threadpool_new(params); }

void ThreadpoolFree(ggml_threadpool * pool) {
    if (pool != nullptr) ggml_threadpool_free(pool);
}
#endif

bool HasOffloadDevice() {
    EnsureBackend();
    for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
        const enum ggml_backend_dev_type type = ggml_backend_dev_type(ggml_backend_dev_get(i));
        if (type == GGML_BACKEND_DEVICE_TYPE_GPU || type == GGML_BACKEND_DEVICE_TYPE_IGPU) return true;
    }
    return false;
}

std::vector<DeviceInfo> ListDevices() {
    EnsureBackend();
    std::vector<DeviceInfo> devices;
    const size_t count = ggml_backend_dev_count();
    for (size_t i = 0; i < count; ++i) {
        devices.push_back(DescribeDevice(ggml_backend_dev_get(i)));
    }
    return devices;
}

DeviceInfo DescribeDevice(ggml_backend_dev_t device) {
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(device);
    DeviceInfo info;
    ggml_backend_dev_memory(device, &info.memory_free, &info.memory_total);
    info.name = ggml_backend_dev_name(device);
    info.description = ggml_backend_dev_description(device);
    info.type = TypeName(ggml_backend_dev_type(device));
    info.backend = reg != nullptr ? ggml_backend_reg_name(reg) : "";
    // Where the backend's code lives: a module such as libggml-cpu-icelake.so in a dynamic
    // build, the addon itself otherwise.
    const void * probe = reg != nullptr ? ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features") : nullptr;
    info.library = LibraryOf(probe != nullptr ? probe : reinterpret_cast<const void *>(&ListDevices));
    return info;
}

}  // namespace llama_napi
