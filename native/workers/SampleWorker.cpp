// context.sample(): llama_sampler_sample on the context's current logits, on a worker thread.
#include "core/ModelState.h"
#include "core/Sampling.h"
#include "workers/PromiseWorker.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

class SampleWorker : public PromiseWorker {
   public:
    SampleWorker(Napi::Env env, Lease<ContextState> context, Lease<SamplerState> sampler, int32_t index)
        : PromiseWorker(env, "llama-napi:sample"),
          context_(std::move(context)),
          sampler_(std::move(sampler)),
          index_(index) {}

   protected:
    void Run() override {
        // The index was checked against the last decode (ContextState::HasLogits) before queueing.
        std::vector<llama_token_data> scratch;
        std::string error;
        token_ = SampleToken(sampler_->chain, context_->ctx, index_, context_->model->n_vocab, scratch, error);
        if (token_ == LLAMA_TOKEN_NULL) {
            Fail(ErrorCode::SamplerFailed, error);
        }
    }

    void Settle() override {
        sampler_.Release();
        context_.Release();
    }

    Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, token_); }

   private:
    Lease<ContextState> context_;
    Lease<SamplerState> sampler_;
    int32_t index_;
    llama_token token_ = LLAMA_TOKEN_NULL;
};

}  // namespace

Napi::Promise StartSample(Napi::Env env, Lease<ContextState> context, Lease<SamplerState> sampler, int32_t index) {
    return (new SampleWorker(env, std::move(context), std::move(sampler), index))->Start();
}

}  // namespace llama_napi
