// Memory planning through llama.cpp's common/fit (see MemoryFit.h).
#include "core/MemoryFit.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <exception>
#include <mutex>

#include "../src/llama-ext.h"  // llama_get_memory_breakdown, as llama.cpp's own tools include it
#include "fit.h"               // llama.cpp common's memory fitting
#include "gguf.h"
#include "runtime/Backends.h"
#include "runtime/Log.h"

namespace llama_napi {

namespace {

// common/fit fills static arrays as it runs: one plan at a time in the process.
std::mutex g_plan_mutex;

constexpr uint64_t kDefaultReserve = 1024ull * 1024 * 1024;  // llama.cpp's --fit-target

/** The value for device `i` of a per-device list (one value: every device), or `fallback`. */
uint64_t PerDevice(const std::vector<uint64_t> & values, size_t i, uint64_t fallback) {
    if (values.empty()) return fallback;
    if (values.size() == 1) return values[0];
    return i < values.size() ? values[i] : fallback;
}

std::string Bytes(double bytes) {
    static const char * const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    int unit = 0;
    while (bytes >= 1024.0 && unit < 4) {
        bytes /= 1024.0;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof(text), unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
    return text;
}

DeviceMemory Describe(ggml_backend_dev_t device) {
    DeviceMemory memory;
    memory.name = ggml_backend_dev_name(device);
    memory.description = ggml_backend_dev_description(device);
    return memory;
}

/** common_get_device_memory_data, its lines demoted and its errors captured (no lock taken). */
bool MeasureLocked(const std::string & path, const llama_model_params & mparams, const llama_context_params & cparams,
                   MemoryBreakdown & out, std::string & error) {
    LogDemote demote;
    LogCapture log;
    std::vector<ggml_backend_dev_t> devices;
    uint32_t layers = 0;
    uint32_t trained = 0;
    uint32_t experts = 0;
    common_device_memory_data_vec data;
    try {
        // GGML_LOG_LEVEL_DEBUG: every line forwarded as it is (our patch then keeps the logger).
        data = common_get_device_memory_data(path.c_str(), &mparams, &cparams, devices, layers, trained, experts,
                                             GGML_LOG_LEVEL_DEBUG);
    } catch (const std::exception & e) {
        error = log.Describe(std::string("llama.cpp could not plan the memory of ") + path + " (" + e.what() + ")");
        return false;
    }
    log.Discard();  // the load that follows says the same again
    out.devices.clear();
    for (size_t i = 0; i < devices.size() && i < data.size(); ++i) {
        DeviceMemory memory = Describe(devices[i]);
        memory.free = data[i].free;
        memory.total = data[i].total;
        memory.model = data[i].model;
        memory.context = data[i].context;
        memory.compute = data[i].compute;
        out.devices.push_back(std::move(memory));
    }
    out.layers = static_cast<int32_t>(layers);
    const common_device_memory_data & host = data.back();
    out.host = DeviceMemory{ "CPU", "host memory", host.free, host.total, host.model, host.context, host.compute };
    return true;
}

/** Why `breakdown` does not fit within `margins`: what each device needs and may use. */
std::string Shortfall(const MemoryBreakdown & breakdown, const std::vector<size_t> & margins,
                      const llama_model_params & mparams, const llama_context_params & cparams, bool mapped) {
    std::string message;
    auto describe = [&](const DeviceMemory & memory, int64_t available, const std::string & what) {
        const uint64_t need = memory.model + memory.context + memory.compute;
        message += " " + what + " needs " + Bytes(static_cast<double>(need)) + " (model " +
                   Bytes(static_cast<double>(memory.model)) + ", context " +
                   Bytes(static_cast<double>(memory.context)) + ", compute " +
                   Bytes(static_cast<double>(memory.compute)) + ") and may use " +
                   Bytes(static_cast<double>(std::max<int64_t>(available, 0))) + ";";
    };
    const std::string context = "a context of " + std::to_string(cparams.n_ctx) + " tokens";
    if (breakdown.devices.empty() && mapped) {
        const DeviceMemory & host = breakdown.host;
        const int64_t available = host.total - static_cast<int64_t>(margins[0]);
        message = "the model does not fit in this machine's memory with " + context + ": it needs " +
                  Bytes(static_cast<double>(host.context + host.compute)) + " (context " +
                  Bytes(static_cast<double>(host.context)) + ", compute " + Bytes(static_cast<double>(host.compute)) +
                  "; its weights, " + Bytes(static_cast<double>(host.model)) +
                  ", are mapped from the file) and may use " +
                  Bytes(static_cast<double>(std::max<int64_t>(available, 0))) + ";";
    } else if (breakdown.devices.empty()) {
        message = "the model does not fit in this machine's memory with " + context + ":";
        describe(breakdown.host, breakdown.host.total - static_cast<int64_t>(margins[0]), "it");
    } else {
        const int32_t layers = mparams.n_gpu_layers;
        const std::string offloaded = layers < 0 || layers == INT32_MAX
                                          ? std::string("every layer")
                                          : std::to_string(layers) + (layers == 1 ? " layer" : " layers");
        message = "the model does not fit in device memory with " + offloaded + " offloaded and " + context + ":";
        bool any = false;
        for (size_t i = 0; i < breakdown.devices.size(); ++i) {
            const DeviceMemory & device = breakdown.devices[i];
            const int64_t available = device.free - static_cast<int64_t>(margins[i]);
            if (static_cast<int64_t>(device.model + device.context + device.compute) > available) {
                describe(device, available, device.name + " (" + device.description + ")");
                any = true;
            }
        }
        if (!any) message += " the devices together cannot hold it;";
    }
    message.pop_back();
    return message;
}

/** What the file's metadata says: the training context (<arch>.context_length, 0 if none) and the
 *  bytes of its tensors (of this file, for a split model). */
struct GgufFacts {
    uint32_t trained = 0;
    uint64_t weights = 0;
};

GgufFacts ReadGguf(const std::string & path) {
    GgufFacts facts;
    gguf_init_params params{ /*no_alloc=*/true, /*ctx=*/nullptr };
    gguf_context * gguf = gguf_init_from_file(path.c_str(), params);
    if (gguf == nullptr) return facts;
    uint64_t trained = 0;
    const int64_t arch = gguf_find_key(gguf, "general.architecture");
    if (arch >= 0 && gguf_get_kv_type(gguf, arch) == GGUF_TYPE_STRING) {
        const int64_t key =
            gguf_find_key(gguf, (std::string(gguf_get_val_str(gguf, arch)) + ".context_length").c_str());
        if (key >= 0) {
            switch (gguf_get_kv_type(gguf, key)) {
                case GGUF_TYPE_UINT32: trained = gguf_get_val_u32(gguf, key); break;
                case GGUF_TYPE_INT32: trained = static_cast<uint64_t>(std::max(gguf_get_val_i32(gguf, key), 0)); break;
                case GGUF_TYPE_UINT64: trained = gguf_get_val_u64(gguf, key); break;
                case GGUF_TYPE_INT64:
                    trained = static_cast<uint64_t>(std::max<int64_t>(gguf_get_val_i64(gguf, key), 0));
                    break;
                default: break;
            }
        }
    }
    for (int64_t i = 0; i < gguf_get_n_tensors(gguf); ++i) facts.weights += gguf_get_tensor_size(gguf, i);
    gguf_free(gguf);
    facts.trained = static_cast<uint32_t>(std::min<uint64_t>(trained, UINT32_MAX));
    return facts;
}

/** A batch no larger than the context, and a micro-batch within it (shared by the sequences). */
void BatchesWithinContext(llama_context_params & cparams) {
    cparams.n_batch = std::min(cparams.n_batch, cparams.n_ctx);
    cparams.n_ubatch = std::min(cparams.n_ubatch, cparams.n_batch);
    if (cparams.n_seq_max > 1 && cparams.n_ubatch > cparams.n_seq_max) {
        cparams.n_ubatch -= cparams.n_ubatch % cparams.n_seq_max;
    }
}

}  // namespace

bool MeasureMemory(const std::string & path, const llama_model_params & mparams, const llama_context_params & cparams,
                   MemoryBreakdown & out, std::string & error) {
    std::lock_guard<std::mutex> lock(g_plan_mutex);
    return MeasureLocked(path, mparams, cparams, out, error);
}

FitOutcome FitToMemory(const std::string & path, llama_model_params & mparams, llama_context_params & cparams,
                       const FitRequest & request, FitBuffers & buffers) {
    std::lock_guard<std::mutex> lock(g_plan_mutex);
    const llama_model_params default_params = llama_model_default_params();
    if (request.auto_layers) {
        mparams.n_gpu_layers = default_params.n_gpu_layers;  // the fit chooses only a default count
    } else if (mparams.n_gpu_layers < 0) {
        mparams.n_gpu_layers = INT32_MAX;  // all, but set by the caller: the fit keeps it
    }
    if (request.auto_context) {
        cparams.n_ctx = 0;
    }
    const GgufFacts facts = ReadGguf(path);
    if (!request.auto_context && cparams.n_ctx == 0 && request.default_context > 0) {
        const uint32_t trained = facts.trained;
        const uint32_t per_sequence =
            trained > 0 ? std::min(trained, request.default_context) : request.default_context;
        cparams.n_ctx = per_sequence * std::max<uint32_t>(cparams.n_seq_max, 1);
        BatchesWithinContext(cparams);
    }
    const llama_model_params original_model = mparams;
    const llama_context_params original_context = cparams;
    // A model llama.cpp cannot read (or make a context for) is not judged: the load says why.
    auto unjudged = [&]() {
        mparams = original_model;
        cparams = original_context;
        if (cparams.n_ctx == 0) {
            const uint32_t trained = facts.trained;
            cparams.n_ctx =
                (trained > 0 ? std::min<uint32_t>(trained, 4096) : 4096) * std::max<uint32_t>(cparams.n_seq_max, 1);
            BatchesWithinContext(cparams);
        }
        return FitOutcome{};
    };

    // Margins: what to leave free on each device; a limit leaves the rest of its free memory.
    const size_t slots = std::max<size_t>(llama_max_devices(), 1) + 1;
    std::vector<size_t> margins(slots, 0);
    MemoryBreakdown before;
    if (!request.limit.empty()) {
        std::string error;
        if (!MeasureLocked(path, mparams, cparams, before, error)) return unjudged();
    }
    const size_t devices = before.devices.size();
    for (size_t i = 0; i < slots; ++i) {
        uint64_t margin = PerDevice(request.reserve, i, kDefaultReserve);
        if (!request.limit.empty()) {
            const bool host = devices == 0;
            const int64_t free = host ? before.host.total : (i < devices ? before.devices[i].free : 0);
            const uint64_t limit = PerDevice(request.limit, i, UINT64_MAX);
            if (limit != UINT64_MAX && free > 0 && static_cast<uint64_t>(free) > limit) {
                margin = std::max<uint64_t>(margin, static_cast<uint64_t>(free) - limit);
            }
        }
        margins[i] = static_cast<size_t>(margin);
    }
    // Without devices, common/fit weighs everything against this machine's memory, the weights too.
    // Mapped from the file, they are pages the system can drop and read again: they need no memory
    // of their own, so their bytes come off the host's margin (common/fit reads margins as signed
    // 64-bit numbers: one below zero grants that much more).
    const bool mapped = mparams.load_mode != LLAMA_LOAD_MODE_NONE && llama_supports_mmap();
    // No device named (the RPC case names its list), and none ggml has that llama.cpp puts layers on.
    const bool host_only = mparams.devices != nullptr ? mparams.devices[0] == nullptr : !HasOffloadDevice();
    const uint64_t mapped_weights = mapped && host_only ? facts.weights : 0;
    margins[0] = static_cast<size_t>(static_cast<int64_t>(margins[0]) - static_cast<int64_t>(mapped_weights));

    buffers.split.assign(llama_max_devices(), 0.0f);
    if (mparams.tensor_split != nullptr) {
        std::copy(mparams.tensor_split, mparams.tensor_split + llama_max_devices(), buffers.split.begin());
    }
    buffers.overrides.assign(llama_max_tensor_buft_overrides(), llama_model_tensor_buft_override{ nullptr, nullptr });

    llama_model_params draft_model = request.draft_model;
    llama_context_params draft_context = request.draft_context;
    const common_fit_extra_model extra = { request.draft_path.c_str(), &draft_model, &draft_context, false };

    common_params_fit_status status;
    {
        LogDemote demote;
        LogCapture log;
        status = common_fit_params(path.c_str(), &mparams, &cparams, buffers.split.data(), buffers.overrides.data(),
                                   margins.data(), request.min_context, request.draft_path.empty() ? nullptr : &extra,
                                   GGML_LOG_LEVEL_DEBUG);
        log.Discard();
    }
    if (status == COMMON_PARAMS_FIT_STATUS_SUCCESS) {
        BatchesWithinContext(cparams);
        return FitOutcome{};
    }
    if (status == COMMON_PARAMS_FIT_STATUS_ERROR) return unjudged();
    // What the fit tried last (the context it shrank to, if it did), and what is missing.
    margins[0] = static_cast<size_t>(static_cast<int64_t>(margins[0]) + static_cast<int64_t>(mapped_weights));
    llama_model_params shown = mparams;
    shown.tensor_buft_overrides = nullptr;
    if (shown.n_gpu_layers == default_params.n_gpu_layers) shown.n_gpu_layers = INT32_MAX;
    if (cparams.n_ctx == 0) cparams.n_ctx = original_context.n_ctx;
    MemoryBreakdown attempt;
    std::string error;
    if (!MeasureLocked(path, shown, cparams, attempt, error)) {
        return FitOutcome{ false, ErrorCode::InsufficientMemory, "the model does not fit in memory: " + error };
    }
    return FitOutcome{ false, ErrorCode::InsufficientMemory,
                       Shortfall(attempt, margins, shown, cparams, mapped_weights > 0) };
}

MemoryBreakdown ContextMemory(const llama_context * ctx) {
    const llama_model * model = llama_get_model(ctx);
    MemoryBreakdown out;
    out.layers = llama_model_n_layer(model);
    const int32_t count = llama_model_n_devices(model);
    for (int32_t i = 0; i < count; ++i) {
        ggml_backend_dev_t device = llama_model_get_device(model, i);
        DeviceMemory memory = Describe(device);
        size_t free = 0;
        size_t total = 0;
        ggml_backend_dev_memory(device, &free, &total);
        memory.free = static_cast<int64_t>(free);
        memory.total = static_cast<int64_t>(total);
        out.devices.push_back(std::move(memory));
    }
    out.host = DeviceMemory{ "CPU", "host memory" };
    if (ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU)) {
        size_t free = 0;
        size_t total = 0;
        ggml_backend_dev_memory(cpu, &free, &total);
        out.host.free = static_cast<int64_t>(free);
        out.host.total = static_cast<int64_t>(total);
    }
    for (const auto & [buffer_type, data] : llama_get_memory_breakdown(ctx)) {
        DeviceMemory * target = nullptr;
        if (ggml_backend_buft_is_host(buffer_type)) {
            target = &out.host;
        } else if (ggml_backend_dev_t device = ggml_backend_buft_get_device(buffer_type)) {
            for (int32_t i = 0; i < count; ++i) {
                if (llama_model_get_device(model, i) == device) target = &out.devices[static_cast<size_t>(i)];
            }
        }
        if (target != nullptr) {
            target->model += data.model;
            target->context += data.context;
            target->compute += data.compute;
        }
    }
    return out;
}

}  // namespace llama_napi
