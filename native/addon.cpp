// Registration of the llama-napi addon: its classes, functions and constants, and the
// environment's teardown hook. The code lives in the layers below (handles/, workers/, js/, core/,
// runtime/).
#include <napi.h>

#include "core/Errors.h"
#include "core/SamplingParams.h"
#include "core/StopReason.h"
#include "handles/AbortToken.h"
#include "handles/Context.h"
#include "handles/Functions.h"
#include "handles/Model.h"
#include "handles/Sampler.h"
#include "js/AddonData.h"
#include "llama.h"
#include "runtime/Log.h"

namespace llama_napi {

namespace {

template <Napi::Value (*Function)(const Napi::CallbackInfo &)>
void Export(Napi::Env env, Napi::Object exports, const char * name) {
    exports.Set(name, Napi::Function::New<Function>(env, name));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    InstallLogger();

    auto * data = new AddonData();
    env.SetInstanceData<AddonData>(data);
    napi_env raw_env = env;
    env.AddCleanupHook([data, raw_env]() { TearDown(*data, raw_env); });

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

    Export<InitBackend>(env, exports, "initBackend");
    Export<LoadModel>(env, exports, "loadModel");
    Export<EstimateMemory>(env, exports, "estimateMemory");
    Export<SystemInfo>(env, exports, "systemInfo");
    Export<ApplyChatTemplate>(env, exports, "applyChatTemplate");
    Export<Shutdown>(env, exports, "shutdown");
    Export<HandleStats>(env, exports, "stats");
    Export<SetLogLevel>(env, exports, "setLogLevel");
    Export<GetLogLevel>(env, exports, "logLevel");
    Export<SetLogger>(env, exports, "setLogger");
    Export<SupportsGpuOffload>(env, exports, "supportsGpuOffload");
    Export<Devices>(env, exports, "devices");
    Export<RpcDevices>(env, exports, "rpcDevices");
    Export<SupportsMmap>(env, exports, "supportsMmap");
    Export<RpcServe>(env, exports, "rpcServe");

    Napi::Array codes = Napi::Array::New(env);
    uint32_t index = 0;
#define LLAMA_NAPI_CODE(id, text) codes.Set(index++, Napi::String::New(env, text));
    LLAMA_NAPI_ERROR_CODES(LLAMA_NAPI_CODE)
#undef LLAMA_NAPI_CODE
    exports.Set("errorCodes", codes);

    Napi::Array reasons = Napi::Array::New(env);
    index = 0;
#define LLAMA_NAPI_REASON(id, text) reasons.Set(index++, Napi::String::New(env, text));
    LLAMA_NAPI_STOP_REASONS(LLAMA_NAPI_REASON)
#undef LLAMA_NAPI_REASON
    exports.Set("stopReasons", reasons);

    Napi::Array samplers = Napi::Array::New(env);
    index = 0;
    for (const char * name : kSamplerKindNames) {
        samplers.Set(index++, Napi::String::New(env, name));
    }
    exports.Set("samplerNames", samplers);

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
