// context.decode(): batched llama_decode of a token array on a worker thread.
#include "core/BatchDecode.h"
#include "workers/PromiseWorker.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

class DecodeWorker : public PromiseWorker {
   public:
    DecodeWorker(Napi::Env env, Lease<ContextState> context, DecodeRequest request, AbortFlag abort)
        : PromiseWorker(env, "llama-napi:decode"),
          abort_(std::move(abort)),
          context_(std::move(context)),
          request_(std::move(request)) {}

   protected:
    void Run() override {
        llama_batch batch = llama_batch_init(static_cast<int32_t>(llama_n_batch(context_->ctx)), 0, 1);
        DecodeOutcome outcome = DecodeTokens(*context_, request_.tokens.data(), request_.tokens.size(), request_.seq_id,
                                             request_.logits_all, batch);
        llama_batch_free(batch);
        if (outcome.aborted) {
            Fail(context_->disposed.load() ? ErrorCode::Disposed : ErrorCode::Aborted,
                 context_->disposed.load() ? "the context was disposed during decode" : "decode aborted");
        } else if (!outcome.ok) {
            Fail(outcome.code, outcome.message);
        }
    }

    void Settle() override { context_.Release(); }

    Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

   private:
    AbortFlag abort_;
    Lease<ContextState> context_;
    DecodeRequest request_;
};

}  // namespace

Napi::Promise StartDecode(Napi::Env env, Lease<ContextState> context, DecodeRequest request, AbortFlag abort) {
    return (new DecodeWorker(env, std::move(context), std::move(request), std::move(abort)))->Start();
}

}  // namespace llama_napi
