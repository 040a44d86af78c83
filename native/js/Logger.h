// The user's logger: llama.cpp's log lines (runtime/Log.h) carried to a JavaScript function through
// a thread-safe function. Contract: main thread; the logger never keeps the process alive.
#pragma once

#include <napi.h>

namespace llama_napi {

/** Sends log lines to `logger(level, message)` from now on (an empty function: back to stderr).
 *  The logger belongs to `env`; ForgetLogger(env) drops it when that environment goes away. */
void SetLogger(Napi::Env env, Napi::Function logger);
void ForgetLogger(napi_env env);

}  // namespace llama_napi
