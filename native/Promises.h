// Runs the argument-reading part of a promise-returning method and turns any error it throws
// into a rejected promise, so such methods never throw synchronously.
#pragma once

#include <napi.h>

namespace llama_napi {

template <typename Start>
Napi::Value PromiseOrReject(Napi::Env env, Start && start) {
    try {
        return start();
    } catch (const Napi::Error & error) {
        auto deferred = Napi::Promise::Deferred::New(env);
        deferred.Reject(error.Value());
        return deferred.Promise();
    }
}

}  // namespace llama_napi
