// JavaScript errors with a `code` from the one list (core/Errors.h), and promise-returning methods
// that never throw. Contract: main thread only.
#pragma once

#include <napi.h>

#include <string>

#include "core/Errors.h"

namespace llama_napi {

/** A JS Error with `code` set. */
inline Napi::Error MakeError(Napi::Env env, ErrorCode code, const std::string & message) {
    Napi::Error error = Napi::Error::New(env, message);
    error.Set("code", Napi::String::New(env, ErrorCodeName(code)));
    return error;
}

/** Throws a coded error as a C++ exception (node-addon-api turns it into a JS throw). */
[[noreturn]] inline void Throw(Napi::Env env, ErrorCode code, const std::string & message) {
    throw MakeError(env, code, message);
}

[[noreturn]] inline void Throw(Napi::Env env, const NativeFailure & failure) {
    Throw(env, failure.code, failure.message);
}

/** Runs the argument-reading part of a promise-returning method and turns any error it throws into
 *  a rejected promise, so such methods never throw synchronously. */
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
