// The addon's free functions: loading models, the chat-template formatter, the system and device
// queries, logging, handle counts and shutdown (see Functions.h).
#include "handles/Functions.h"

#include <string>
#include <thread>
#include <vector>

#include "core/Stats.h"
#include "handles/AbortToken.h"
#include "handles/Model.h"
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

Napi::Value LoadModel(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        LoadModelRequest request;
        request.path = StringArgument(env, info[0], "path");
        if (request.path.empty() || request.path.find('\0') != std::string::npos) {
            Throw(env, ErrorCode::InvalidArgument, "path must be a non-empty string without NUL characters");
        }
        Napi::Object options = OptionsObject(env, info[1], "options");
        request.gpu_layers = static_cast<int32_t>(ReadInteger(env, options, limits::kGpuLayers, -1));
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
                const double value = item.IsNumber() ? item.As<Napi::Number>().DoubleValue() : -1.0;
                if (!(value >= 0.0 && value < 1e30)) {
                    Throw(env, ErrorCode::InvalidArgument, "tensorSplit entries must be finite numbers >= 0");
                }
                request.tensor_split.push_back(static_cast<float>(value));
            }
        }
        Napi::Function on_progress = OptionalFunction(env, info[2], "onProgress");
        AbortFlag abort = AbortToken::FlagOf(env, info[3]);
        return StartLoadModel(env, std::move(request), on_progress, std::move(abort), &Model::Wrap);
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
