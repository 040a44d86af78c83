// Per-environment data of the addon: the handle classes' constructors, what in-flight work checks
// to learn the environment is going away, and the contexts to dispose of when it does.
// Contract: main thread of one environment (the addon can be loaded in worker threads too), except
// Shutdown's atomics, which work reads from any thread.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <vector>

namespace llama_napi {

struct ContextState;

/** What in-flight work of one environment checks to learn the environment is going away. */
struct ShutdownState {
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
    std::shared_ptr<ShutdownState> shutdown = std::make_shared<ShutdownState>();
    /** Every context made in this environment, to dispose of at teardown. */
    std::vector<std::weak_ptr<ContextState>> contexts;

    static AddonData & Of(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }
};

/** At teardown of the environment (process exit, a worker thread terminated) native work may still
 *  be running: disposes every context (which aborts its decodes and joins its engine thread), makes
 *  loads abort, and waits for workers to leave llama.cpp before the environment (and, on exit, the
 *  process's static state) goes away. */
void TearDown(AddonData & data, napi_env env);

}  // namespace llama_napi
