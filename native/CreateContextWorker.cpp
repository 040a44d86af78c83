// model.createContext(): llama_init_from_model on a worker thread (it allocates the KV cache
// and compute buffers, which can take a while and can fail for lack of memory).
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
        if (ctx_ != nullptr) {
            llama_free(ctx_);  // created, but never handed to JS
        }
    }

   protected:
    void Run() override {
        LogCapture log;
        ctx_ = llama_init_from_model(model_->model, params_);
        if (ctx_ == nullptr) {
            Fail(ErrorCode::ContextCreateFailed,
                 log.Describe("llama.cpp could not create a context of " + std::to_string(params_.n_ctx) + " tokens"));
        }
    }

    Napi::Value Result(Napi::Env env) override {
        auto state = std::make_shared<ContextState>(model_, ctx_);
        ctx_ = nullptr;  // owned by the state from here
        model_->contexts.push_back(state);
        return Context::NewInstance(env, std::move(state));
    }

   private:
    std::shared_ptr<ModelState> model_;
    llama_context_params params_;
    llama_context * ctx_ = nullptr;
};

}  // namespace

Napi::Promise StartCreateContext(Napi::Env env, std::shared_ptr<ModelState> model, llama_context_params params) {
    return (new CreateContextWorker(env, std::move(model), params))->Start();
}

}  // namespace llama_napi
