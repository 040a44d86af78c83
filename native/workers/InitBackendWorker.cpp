// initBackend(): llama.cpp's backend initialization, once per process, off the main thread.
#include "runtime/Backends.h"
#include "workers/PromiseWorker.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

class InitBackendWorker : public PromiseWorker {
   public:
    explicit InitBackendWorker(Napi::Env env) : PromiseWorker(env, "llama-napi:initBackend") {}

   protected:
    void Run() override { EnsureBackend(); }
    Napi::Value Result(Napi::Env env) override { return env.Undefined(); }
};

}  // namespace

Napi::Promise StartInitBackend(Napi::Env env) { return (new InitBackendWorker(env))->Start(); }

}  // namespace llama_napi
