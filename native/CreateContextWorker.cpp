// model.createContext(): llama_init_from_model on a worker thread (it allocates the KV cache
// and compute buffers, which can take a while and can fail for lack of memory).
#include <algorithm>

#include "AddonData.h"
#include "Backends.h"
#include "Context.h"
#include "Log.h"
#include "Model.h"
#include "PromiseWorker.h"
#include "Workers.h"

namespace llama_napi {

namespace {

class CreateContextWorker : public PromiseWorker {
   public:
    CreateContextWorker(Napi::Env env, std::shared_ptr<ModelState> model, llama_context_params params)
        : PromiseWorker(env, "llama-napi:createContext"), model_(std::move(model)), params_(params) {}

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
        // Both lists keep weak references; expired ones are dropped here so they do not pile up.
        auto remember = [&](std::vector<std::weak_ptr<ContextState>> & list) {
            list.erase(std::remove_if(list.begin(), list.end(), [](const auto & weak) { return weak.expired(); }), list.end());
            list.push_back(state);
        };
        remember(model_->contexts);
        remember(AddonData::Of(env).contexts);
        return Context::NewInstance(env, std::move(state));
    }

   private:
    std::shared_ptr<ModelState> model_;
    llama_context_params params_;
    llama_context * ctx_ = nullptr;
    ggml_threadpool * threadpool_ = nullptr;
};

}  // namespace

Napi::Promise StartCreateContext(Napi::Env env, std::shared_ptr<ModelState> model, llama_context_params params) {
    return (new CreateContextWorker(env, std::move(model), params))->Start();
}

}  // namespace llama_napi
