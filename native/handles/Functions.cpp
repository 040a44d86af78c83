// The addon's free functions: loading models, the chat-template formatter, the system and device
// queries, logging, handle counts and shutdown (see Functions.h).
#include "handles/Functions.h"

#include <string>
#include <thread>
#include <vector>

#include "core/OptionLimits.h"
#include "core/Stats.h"
#include "handles/AbortToken.h"
#include "handles/Model.h"
#include "handles/Options.h"
#include "js/AddonData.h"
#include "js/Arguments.h"
#include "js/Errors.h"
#include "js/Logger.h"
#include "llama.h"
#include "runtime/Backends.h"
#include "runtime/Log.h"
#include "runtime/Rpc.h"
#include "workers/Workers.h"

namespace llama_napi {

Napi::Value InitBackend(const Napi::CallbackInfo & info) { return StartInitBackend(info.Env()); }

namespace {

/** Bytes per device: a list of numbers >= 0 (what the TypeScript layer sends for one or many). */
std::vector<uint64_t> ReadByteList(Napi::Env env, Napi::Object options, const char * key) {
    std::vector<uint64_t> bytes;
    Napi::Value value = options.Get(key);
    if (value.IsUndefined()) return bytes;
    if (!value.IsArray()) Throw(env, ErrorCode::InvalidArgument, std::string(key) + " must be an array of byte counts");
    Napi::Array array = value.As<Napi::Array>();
    if (array.Length() == 0 || array.Length() > llama_max_devices()) {
        Throw(env, ErrorCode::InvalidArgument,
              std::string(key) + " must have 1 to " + std::to_string(llama_max_devices()) + " entries");
    }
    for (uint32_t i = 0; i < array.Length(); ++i) {
        Napi::Value item = array.Get(i);
        const double number = item.IsNumber() ? item.As<Napi::Number>().DoubleValue() : -1.0;
        if (!(number >= 0.0 && number <= 9007199254740991.0) ||
            number != static_cast<double>(static_cast<uint64_t>(number))) {
            Throw(env, ErrorCode::InvalidArgument, std::string(key) + " entries must be integers >= 0 (bytes)");
        }
        bytes.push_back(static_cast<uint64_t>(number));
    }
    return bytes;
}

/** The request of loadModel() and estimateMemory(): path and options (see lib/binding.ts). */
LoadModelRequest ReadLoadRequest(Napi::Env env, Napi::Value path, Napi::Value value) {
    LoadModelRequest request;
    request.path = StringArgument(env, path, "path");
    if (request.path.empty() || request.path.find('\0') != std::string::npos) {
        Throw(env, ErrorCode::InvalidArgument, "path must be a non-empty string without NUL characters");
    }
    Napi::Object options = OptionsObject(env, value, "options");
    const bool auto_layers =
        options.Get("gpuLayers").IsString() && options.Get("gpuLayers").As<Napi::String>().Utf8Value() == "auto";
    request.gpu_layers = auto_layers ? -1 : static_cast<int32_t>(ReadInteger(env, options, limits::kGpuLayers, -1));
    request.use_mmap = ReadBool(env, options, "useMmap", true);
    request.vocab_only = ReadBool(env, options, "vocabOnly", false);
    request.check_tensors = ReadBool(env, options, "checkTensors", false);
    if (!options.Get("rpcServers").IsUndefined()) {
        request.rpc_servers = ReadStrings(env, options, "rpcServers");
        for (const std::string & endpoint : request.rpc_servers) {
            // As ggml reads it: the host up to the first colon, then the port's digits.
            const size_t colon = endpoint.find(':');
            if (colon == std::string::npos || colon == 0 || colon + 1 == endpoint.size() ||
                endpoint.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
                Throw(env, ErrorCode::InvalidArgument,
                      "rpcServers entries must be \"host:port\" (got \"" + endpoint + "\")");
            }
        }
    }
    Napi::Value split = options.Get("tensorSplit");
    if (!split.IsUndefined()) {
        if (!split.IsArray()) Throw(env, ErrorCode::InvalidArgument, "tensorSplit must be an array of numbers");
        Napi::Array array = split.As<Napi::Array>();
        if (array.Length() > llama_max_devices()) {
            Throw(env, ErrorCode::InvalidArgument,
                  "tensorSplit has " + std::to_string(array.Length()) + " entries; llama.cpp takes at most " +
                      std::to_string(llama_max_devices()));
        }
        for (uint32_t i = 0; i < array.Length(); ++i) {
            Napi::Value item = array.Get(i);
            const double number = item.IsNumber() ? item.As<Napi::Number>().DoubleValue() : -1.0;
            if (!(number >= 0.0 && number < 1e30)) {
                Throw(env, ErrorCode::InvalidArgument, "tensorSplit entries must be finite numbers >= 0");
            }
            request.tensor_split.push_back(static_cast<float>(number));
        }
    }
    Napi::Value fit = options.Get("fit");
    if (auto_layers && fit.IsUndefined()) {
        Throw(env, ErrorCode::InvalidArgument, "gpuLayers 'auto' needs a fit (the context to plan for)");
    }
    if (!fit.IsUndefined()) {
        Napi::Object plan = OptionsObject(env, fit, "fit");
        request.fit = true;
        request.context = ReadContextParams(env, OptionsObject(env, plan.Get("context"), "fit.context"));
        FitRequest & fit_request = request.fit_request;
        fit_request.auto_layers = auto_layers;
        fit_request.auto_context = ReadBool(env, plan, "autoContext", false);
        fit_request.default_context =
            static_cast<uint32_t>(ReadInteger(env, plan, "defaultContextSize", 0, 0, limits::kContextSize.max));
        if (fit_request.auto_context || fit_request.default_context > 0) request.context.n_ctx = 0;
        fit_request.limit = ReadByteList(env, plan, "memoryLimit");
        fit_request.reserve = ReadByteList(env, plan, "memoryReserve");
        fit_request.min_context =
            static_cast<uint32_t>(ReadInteger(env, plan, "minContextSize", 4096, 1, limits::kContextSize.max));
        Napi::Value draft = plan.Get("draftModel");
        if (!draft.IsUndefined()) {
            fit_request.draft_path = StringArgument(env, draft, "fit.draftModel");
            fit_request.draft_model = llama_model_default_params();
            fit_request.draft_model.n_gpu_layers = -1;
            fit_request.draft_context = request.context;
            fit_request.draft_context.embeddings = false;
            fit_request.draft_context.pooling_type = LLAMA_POOLING_TYPE_UNSPECIFIED;
        }
    }
    return request;
}

}  // namespace

Napi::Value LoadModel(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        LoadModelRequest request = ReadLoadRequest(env, info[0], info[1]);
        Napi::Function on_progress = OptionalFunction(env, info[2], "onProgress");
        AbortFlag abort = AbortToken::FlagOf(env, info[3]);
        return StartLoadModel(env, std::move(request), on_progress, std::move(abort), &Model::Wrap);
    });
}

Napi::Value EstimateMemory(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        LoadModelRequest request = ReadLoadRequest(env, info[0], info[1]);
        if (!request.fit || request.vocab_only) {
            Throw(env, ErrorCode::InvalidArgument, "estimateMemory needs a fit (the context to plan for)");
        }
        return StartEstimateMemory(env, std::move(request));
    });
}

Napi::Value ApplyChatTemplate(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) {
        Throw(env, ErrorCode::InvalidArgument, "template must be a string");
    }
    if (!info[1].IsArray()) {
        Throw(env, ErrorCode::InvalidArgument, "messages must be an array of { role, content }");
    }
    const std::string tmpl = info[0].As<Napi::String>().Utf8Value();
    Napi::Array array = info[1].As<Napi::Array>();
    std::vector<std::string> strings;  // owns the text the llama_chat_message pointers refer to
    strings.reserve(array.Length() * 2);
    size_t total = tmpl.size();
    for (uint32_t i = 0; i < array.Length(); ++i) {
        Napi::Value item = array.Get(i);
        Napi::Value role = item.IsObject() ? item.As<Napi::Object>().Get("role") : env.Undefined();
        Napi::Value content = item.IsObject() ? item.As<Napi::Object>().Get("content") : env.Undefined();
        if (!role.IsString() || !content.IsString()) {
            Throw(env, ErrorCode::InvalidArgument,
                  "messages[" + std::to_string(i) + "] must be { role: string, content: string }");
        }
        strings.push_back(role.As<Napi::String>().Utf8Value());
        strings.push_back(content.As<Napi::String>().Utf8Value());
        total += strings[strings.size() - 2].size() + strings.back().size();
    }
    std::vector<llama_chat_message> messages;
    for (size_t i = 0; i < strings.size(); i += 2) {
        messages.push_back({ strings[i].c_str(), strings[i + 1].c_str() });
    }
    const bool add_assistant = info[2].IsBoolean() ? info[2].As<Napi::Boolean>().Value() : true;
    std::vector<char> buffer(total * 2 + 256);
    int32_t n = llama_chat_apply_template(tmpl.c_str(), messages.data(), messages.size(), add_assistant, buffer.data(),
                                          static_cast<int32_t>(buffer.size()));
    if (n > static_cast<int32_t>(buffer.size())) {
        buffer.resize(static_cast<size_t>(n));
        n = llama_chat_apply_template(tmpl.c_str(), messages.data(), messages.size(), add_assistant, buffer.data(),
                                      static_cast<int32_t>(buffer.size()));
    }
    if (n < 0) {
        return env.Null();
    }
    return Napi::String::New(env, buffer.data(), static_cast<size_t>(n));
}

Napi::Value HandleStats(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object result = Napi::Object::New(env);
    auto add = [&](const char * name, const HandleCounts & counts) {
        Napi::Object entry = Napi::Object::New(env);
        entry.Set("made", Napi::Number::New(env, static_cast<double>(counts.made.load())));
        entry.Set("freed", Napi::Number::New(env, static_cast<double>(counts.freed.load())));
        result.Set(name, entry);
    };
    Stats & stats = Stats::Get();
    add("models", stats.models);
    add("contexts", stats.contexts);
    add("samplers", stats.samplers);
    add("engines", stats.engines);
    add("channels", stats.channels);
    return result;
}

Napi::Value SetLogLevel(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const int rank = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1;
    if (rank != kDebug && rank != kInfo && rank != kWarn && rank != kError && rank != kNone) {
        Throw(env, ErrorCode::InvalidArgument, "level must be 0 (debug), 1 (info), 3 (warn), 4 (error) or 5 (none)");
    }
    llama_napi::SetLogLevel(rank);
    return env.Undefined();
}

Napi::Value GetLogLevel(const Napi::CallbackInfo & info) { return Napi::Number::New(info.Env(), LogLevel()); }

Napi::Value SetLogger(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!info[0].IsFunction() && !info[0].IsNull() && !info[0].IsUndefined()) {
        Throw(env, ErrorCode::InvalidArgument, "logger must be a function or null");
    }
    llama_napi::SetLogger(env, info[0].IsFunction() ? info[0].As<Napi::Function>() : Napi::Function());
    return env.Undefined();
}

Napi::Value SystemInfo(const Napi::CallbackInfo & info) {
    EnsureBackend();
    return Napi::String::New(info.Env(), llama_print_system_info());
}

Napi::Value Devices(const Napi::CallbackInfo & info) { return MakeDeviceList(info.Env(), ListDevices()); }

Napi::Value RpcDevices(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        Napi::Object holder = Napi::Object::New(env);
        holder.Set("endpoints", info[0]);
        return StartRpcDevices(env, ReadStrings(env, holder, "endpoints"));
    });
}

Napi::Value SupportsGpuOffload(const Napi::CallbackInfo & info) {
    return Napi::Boolean::New(info.Env(), HasOffloadDevice());
}

Napi::Value SupportsMmap(const Napi::CallbackInfo & info) {
    return Napi::Boolean::New(info.Env(), llama_supports_mmap());
}

Napi::Value RpcServe(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        const std::string endpoint = StringArgument(env, info[0], "endpoint");
        Napi::Object options = OptionsObject(env, info[1], "options");
        const unsigned hardware = std::thread::hardware_concurrency();
        const auto threads =
            static_cast<size_t>(ReadInteger(env, options, "threads", hardware > 0 ? hardware : 1, 1, 1024));
        std::string cache_dir;
        if (!options.Get("cacheDir").IsUndefined())
            cache_dir = StringArgument(env, options.Get("cacheDir"), "cacheDir");
        std::vector<std::string> names;
        if (!options.Get("devices").IsUndefined()) names = ReadStrings(env, options, "devices");
        std::string error;
        std::vector<ggml_backend_dev_t> devices = RpcDevices(names, error);
        if (!error.empty()) Throw(env, ErrorCode::InvalidArgument, error);

        // The server runs on a thread of its own for as long as it serves; the promise settles only
        // if it stops (it could not bind its address, say). The thread-safe function keeps the
        // event loop alive meanwhile.
        auto * deferred = new Napi::Promise::Deferred(env);
        Napi::Promise promise = deferred->Promise();
        auto done = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo &) {}),
                                                  "llama-napi:rpcServe", 0, 1);
        std::thread([done, endpoint, cache_dir, threads, devices, deferred]() mutable {
            ServeRpc(endpoint, cache_dir, threads, std::move(devices));
            done.BlockingCall([deferred, endpoint](Napi::Env env, Napi::Function) {
                deferred->Reject(
                    MakeError(env, ErrorCode::RpcFailed, "the RPC server at " + endpoint + " stopped").Value());
                delete deferred;
            });
            done.Release();
        }).detach();
        return promise;
    });
}

// shutdown(): TearDown() now, for process.exit(): Node runs no cleanup hook of the main environment
// there, and joins its thread pool — which would wait out a long decode, or leave an engine thread
// running into the process's teardown. lib/binding.ts calls it from process.on('exit').
Napi::Value Shutdown(const Napi::CallbackInfo & info) {
    TearDown(AddonData::Of(info.Env()), info.Env());
    return info.Env().Undefined();
}

}  // namespace llama_napi
