// Per-environment data of the addon (class constructors) and type-tag checks for handle
// arguments, so an object dressed up with a handle's prototype is rejected, never unwrapped.
// Contract: main thread of one environment (the addon can be loaded in worker threads too).
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "errors.h"

namespace llama_napi {

struct ContextState;

/** What in-flight work of one environment checks to learn the environment is going away. */
struct Shutdown {
    /** Set when the environment tears down (process exit, worker thread terminated). */
    std::atomic<bool> stopping{ false };
    /** Workers whose Execute() is running now. */
    std::atomic<int> running{ 0 };
};

struct AddonData {
    Napi::FunctionReference abort_token;
    Napi::FunctionReference model;
    Napi::FunctionReference context;
    Napi::FunctionReference sampler;
    std::shared_ptr<Shutdown> shutdown = std::make_shared<Shutdown>();
    /** Every context made in this environment, to dispose of at teardown. Main thread only. */
    std::vector<std::weak_ptr<ContextState>> contexts;

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
