// Registration of the llama-napi addon: classes, functions and constants. No logic lives here.
#include <napi.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "AbortToken.h"
#include "AddonData.h"
#include "Backends.h"
#include "Context.h"
#include "Log.h"
#include "Model.h"
#include "Promises.h"
#include "Sampler.h"
#include "Stats.h"
#include "Tokens.h"
#include "Workers.h"
#include "errors.h"

namespace llama_napi {

namespace {

Napi::Value InitBackend(const Napi::CallbackInfo & info) { return StartInitBackend(info.Env()); }

Napi::Value LoadModel(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        if (!info[0].IsString()) {
            Throw(env, ErrorCode::InvalidArgument, "path must be a string");
        }
        LoadModelRequest request;
        request.path = info[0].As<Napi::String>().Utf8Value();
        if (request.path.empty() || request.path.find('\0') != std::string::npos) {
            Throw(env, ErrorCode::InvalidArgument, "path must be a non-empty string without NUL characters");
        }
        Napi::Object options = OptionsObject(env, info[1], "options");
        request.gpu_layers = static_cast<int32_t>(ReadInteger(env, options, "gpuLayers", -1, -1, INT32_MAX));
        request.use_mmap = ReadBool(env, options, "useMmap", true);
        request.vocab_only = ReadBool(env, options, "vocabOnly", false);
        request.check_tensors = ReadBool(env, options, "checkTensors", false);
        Napi::Value on_progress = info[2];
        if (!on_progress.IsUndefined() && !on_progress.IsNull() && !on_progress.IsFunction()) {
            Throw(env, ErrorCode::InvalidArgument, "onProgress must be a function");
        }
        AbortFlag abort = AbortToken::FlagOf(env, info[3]);
        return StartLoadModel(env, std::move(request),
                              on_progress.IsFunction() ? on_progress.As<Napi::Function>() : Napi::Function(),
                              std::move(abort));
    });
}

// applyChatTemplate(template, messages, addAssistant): llama.cpp's built-in formatting of a chat for
// the template families it recognizes; null when it does not recognize the template.
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
            Throw(env, ErrorCode::InvalidArgument, "messages[" + std::to_string(i) + "] must be { role: string, content: string }");
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

// stats(): native handles made and freed so far, per kind (process-wide).
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

// setLogLevel(rank) / logLevel(): the threshold of llama.cpp's log output (a LogRank: 0 debug,
// 1 info, 3 warn, 4 error, 5 none).
Napi::Value SetLogLevelJs(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const int rank = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1;
    if (rank != kDebug && rank != kInfo && rank != kWarn && rank != kError && rank != kNone) {
        Throw(env, ErrorCode::InvalidArgument, "level must be 0 (debug), 1 (info), 3 (warn), 4 (error) or 5 (none)");
    }
    SetLogLevel(rank);
    return env.Undefined();
}

Napi::Value LogLevelJs(const Napi::CallbackInfo & info) { return Napi::Number::New(info.Env(), LogLevel()); }

// setLogger(fn | null): whole log lines go to fn(level, message) instead of stderr.
Napi::Value SetLoggerJs(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!info[0].IsFunction() && !info[0].IsNull() && !info[0].IsUndefined()) {
        Throw(env, ErrorCode::InvalidArgument, "logger must be a function or null");
    }
    SetLogger(env, info[0].IsFunction() ? info[0].As<Napi::Function>() : Napi::Function());
    return env.Undefined();
}

Napi::Value SystemInfo(const Napi::CallbackInfo & info) {
    EnsureBackend();
    return Napi::String::New(info.Env(), llama_print_system_info());
}

Napi::Value DevicesJs(const Napi::CallbackInfo & info) { return Devices(info.Env()); }

Napi::Value SupportsGpuOffload(const Napi::CallbackInfo & info) {
    EnsureBackend();
    return Napi::Boolean::New(info.Env(), llama_supports_gpu_offload());
}

Napi::Value SupportsMmap(const Napi::CallbackInfo & info) { return Napi::Boolean::New(info.Env(), llama_supports_mmap()); }

// At teardown of the environment (process exit, a worker thread terminated) native work may still
// be running: dispose every context (which aborts its decodes and joins its engine thread), make
// loads abort, and wait for workers to leave llama.cpp before the environment (and, on exit, the
// process's static state) goes away.
void TearDown(AddonData * data, napi_env env) {
    data->shutdown->stopping.store(true);
    ForgetLogger(env);
    for (const std::weak_ptr<ContextState> & weak : data->contexts) {
        if (std::shared_ptr<ContextState> context = weak.lock()) {
            context->MarkDisposed();
        }
    }
    data->contexts.clear();
    for (int waited = 0; data->shutdown->running.load() > 0 && waited < 10000; ++waited) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

// shutdown(): TearDown() now, for process.exit(): Node runs no cleanup hook of the main environment
// there, and joins its thread pool — which would wait out a long decode, or leave an engine thread
// running into the process's teardown. lib/binding.ts calls it from process.on('exit').
Napi::Value Shutdown(const Napi::CallbackInfo & info) {
    TearDown(&AddonData::Of(info.Env()), info.Env());
    return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    InstallLogger();

    auto * data = new AddonData();
    env.SetInstanceData<AddonData>(data);
    napi_env raw_env = env;
    env.AddCleanupHook([data, raw_env]() { TearDown(data, raw_env); });
    Napi::Function abort_token = AbortToken::Define(env);
    Napi::Function model = Model::Define(env);
    Napi::Function context = Context::Define(env);
    Napi::Function sampler = Sampler::Define(env);
    data->abort_token = Napi::Persistent(abort_token);
    data->model = Napi::Persistent(model);
    data->context = Napi::Persistent(context);
    data->sampler = Napi::Persistent(sampler);

    exports.Set("AbortToken", abort_token);
    exports.Set("Model", model);
    exports.Set("Context", context);
    exports.Set("Sampler", sampler);
    exports.Set("initBackend", Napi::Function::New<InitBackend>(env, "initBackend"));
    exports.Set("loadModel", Napi::Function::New<LoadModel>(env, "loadModel"));
    exports.Set("systemInfo", Napi::Function::New<SystemInfo>(env, "systemInfo"));
    exports.Set("applyChatTemplate", Napi::Function::New<ApplyChatTemplate>(env, "applyChatTemplate"));
    exports.Set("shutdown", Napi::Function::New<Shutdown>(env, "shutdown"));
    exports.Set("stats", Napi::Function::New<HandleStats>(env, "stats"));
    exports.Set("setLogLevel", Napi::Function::New<SetLogLevelJs>(env, "setLogLevel"));
    exports.Set("logLevel", Napi::Function::New<LogLevelJs>(env, "logLevel"));
    exports.Set("setLogger", Napi::Function::New<SetLoggerJs>(env, "setLogger"));
    exports.Set("supportsGpuOffload", Napi::Function::New<SupportsGpuOffload>(env, "supportsGpuOffload"));
    exports.Set("devices", Napi::Function::New<DevicesJs>(env, "devices"));
    exports.Set("supportsMmap", Napi::Function::New<SupportsMmap>(env, "supportsMmap"));

    Napi::Array codes = Napi::Array::New(env);
    uint32_t index = 0;
#define LLAMA_NAPI_CODE(id, text) codes.Set(index++, Napi::String::New(env, text));
    LLAMA_NAPI_ERROR_CODES(LLAMA_NAPI_CODE)
#undef LLAMA_NAPI_CODE
    exports.Set("errorCodes", codes);

    Napi::Object versions = Napi::Object::New(env);
    versions.Set("llamaCpp", Napi::String::New(env, llama_version()));
    versions.Set("llamaCppCommit", Napi::String::New(env, LLAMA_NAPI_LLAMA_CPP_COMMIT));
    versions.Set("napi", Napi::Number::New(env, NAPI_VERSION));
    versions.Set("gpu", Napi::String::New(env, LLAMA_NAPI_GPU_NAME));
    versions.Set("cpuVariants", Napi::Boolean::New(env, LLAMA_NAPI_CPU_VARIANTS_ON != 0));
    exports.Set("versions", versions);
    return exports;
}

}  // namespace

}  // namespace llama_napi

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return llama_napi::Init(env, exports); }

NODE_API_MODULE(llama_napi, InitAddon)
