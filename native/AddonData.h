// Per-environment data of the addon (class constructors) and type-tag checks for handle
// arguments, so an object dressed up with a handle's prototype is rejected, never unwrapped.
// Contract: main thread of one environment (the addon can be loaded in worker threads too).
#pragma once

#include <napi.h>

#include <string>

#include "errors.h"

namespace llama_napi {

struct AddonData {
    Napi::FunctionReference abort_token;
    Napi::FunctionReference model;
    Napi::FunctionReference context;
    Napi::FunctionReference sampler;

    static AddonData & Of(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }
};

/** The wrapped T behind `value`, if `value` is an object tagged with T::kTypeTag; else throws
 *  INVALID_ARGUMENT naming `what`. Main thread. */
template <typename T>
T * UnwrapHandle(Napi::Env env, Napi::Value value, const char * what) {
    if (!value.IsObject() || !value.As<Napi::Object>().CheckTypeTag(&T::kTypeTag)) {
        Throw(env, ErrorCode::InvalidArgument, std::string(what) + " must be a " + T::kClassName);
    }
    T * handle = T::Unwrap(value.As<Napi::Object>());
    if (handle == nullptr) {
        Throw(env, ErrorCode::InvalidArgument, std::string(what) + " must be a " + T::kClassName);
    }
    return handle;
}

}  // namespace llama_napi
