// model.createContext(): llama_init_from_model on a worker thread (it allocates the KV cache
// and compute buffers, which can take a while and can fail for lack of memory).
#include <algorithm>

#include "core/ModelState.h"
#include "js/AddonData.h"
#include "runtime/Backends.h"
#include "runtime/Log.h"
#include "workers/PromiseWorker.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

class CreateContextWorker : public PromiseWorker {
   public:
    CreateContextWorker(Napi::Env env, std::shared_ptr<ModelState> model, llama_context_params params, WrapContext wrap)
        : PromiseWorker(env, "llama-napi:createContext"), model_(std::move(model)), params_(params), wrap_(wrap) {}

    ~CreateContextWorker() override {
        // Created, but never handed to JS.
        if (ctx_ != nullptr) {
            llama_free(ctx_);
        }
        if (threadpool_ != nullptr) {
            ThreadpoolFree(threadpool_);
        }
    }

   protected:
    void Run() override {
        LogCapture log;
        ctx_ = llama_init_from_model(model_->model, params_);
        if (ctx_ == nullptr) {
            Fail(ErrorCode::ContextCreateFailed,
                 log.Describe("llama.cpp could not create a context of " + std::to_string(params_.n_ctx) + " tokens"));
            return;
        }
        // One pool serves both single-token and batch decodes (llama.cpp uses as many of its
        // threads as each asks for). Its workers poll briefly after a decode, then sleep.
        ggml_threadpool_params pool_params =
            ggml_threadpool_params_default(std::max(params_.n_threads, params_.n_threads_batch));
        threadpool_ = ThreadpoolNew(&pool_params);
        if (threadpool_ == nullptr) {
            Fail(ErrorCode::ContextCreateFailed, log.Describe("ggml could not start a thread pool"));
        }
    }

    Napi::Value Result(Napi::Env env) override {
        if (model_->disposed) {
            // The model was disposed while its context was being created: it must not outlive it.
            throw MakeError(env, ErrorCode::Disposed, "the model was disposed while the context was being created");
        }
        auto state = std::make_shared<ContextState>(model_, ctx_, threadpool_);
        ctx_ = nullptr;  // owned by the state from here
        threadpool_ = nullptr;
        Remember(model_->contexts, state);
        Remember(AddonData::Of(env).contexts, state);
        return wrap_(env, std::move(state));
    }

   private:
    std::shared_ptr<ModelState> model_;
    llama_context_params params_;
    WrapContext wrap_;
    llama_context * ctx_ = nullptr;
    ggml_threadpool * threadpool_ = nullptr;
};

}  // namespace

Napi::Promise StartCreateContext(Napi::Env env, std::shared_ptr<ModelState> model, llama_context_params params,
                                 WrapContext wrap) {
    return (new CreateContextWorker(env, std::move(model), params, wrap))->Start();
}

}  // namespace llama_napi
