// context.embed(): one text's embedding on a context created with embeddings on — decode every
// token with outputs, read the pooled embedding of the sequence (or the last token's without
// pooling), optionally L2-normalize.
#include <cmath>

#include <algorithm>

#include "core/BatchDecode.h"
#include "core/ModelState.h"
#include "workers/PromiseWorker.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

class EmbedWorker : public PromiseWorker {
   public:
    EmbedWorker(Napi::Env env, Lease<ContextState> context, std::vector<llama_token> tokens, bool normalize)
        : PromiseWorker(env, "llama-napi:embed"),
          context_(std::move(context)),
          tokens_(std::move(tokens)),
          normalize_(normalize) {}

   protected:
    void Run() override {
        llama_context * ctx = context_->ctx;
        if (tokens_.size() > llama_n_ubatch(ctx)) {
            Fail(ErrorCode::ContextOverflow, "the text has " + std::to_string(tokens_.size()) +
                                                 " tokens, more than an embedding batch holds (" +
                                                 std::to_string(llama_n_ubatch(ctx)) + ")");
            return;
        }
        llama_memory_clear(llama_get_memory(ctx), true);
        llama_batch batch = llama_batch_init(static_cast<int32_t>(tokens_.size()), 0, 1);
        DecodeOutcome outcome = DecodeTokens(*context_, tokens_.data(), tokens_.size(), 0, true, batch);
        llama_batch_free(batch);
        if (!outcome.ok) {
            Fail(
                outcome.aborted ? (context_->disposed.load() ? ErrorCode::Disposed : ErrorCode::Aborted) : outcome.code,
                outcome.aborted ? "embedding aborted" : outcome.message);
            return;
        }
        const int32_t n_embd = llama_model_n_embd_out(context_->model->model);
        const float * values = llama_pooling_type(ctx) == LLAMA_POOLING_TYPE_NONE ? llama_get_embeddings_ith(ctx, -1)
                                                                                  : llama_get_embeddings_seq(ctx, 0);
        if (values == nullptr) {
            Fail(ErrorCode::NativeError,
                 "llama.cpp returned no embedding (was the context created with embeddings: true?)");
            return;
        }
        embedding_.assign(values, values + n_embd);
        if (normalize_) {
            double sum = 0;
            for (float v : embedding_) sum += static_cast<double>(v) * v;
            const double norm = std::sqrt(sum);
            if (norm > 0) {
                for (float & v : embedding_) v = static_cast<float>(v / norm);
            }
        }
    }

    void Settle() override { context_.Release(); }

    Napi::Value Result(Napi::Env env) override {
        Napi::Float32Array array = Napi::Float32Array::New(env, embedding_.size());
        std::copy(embedding_.begin(), embedding_.end(), array.Data());
        return array;
    }

   private:
    Lease<ContextState> context_;
    std::vector<llama_token> tokens_;
    bool normalize_;
    std::vector<float> embedding_;
};

}  // namespace

Napi::Promise StartEmbed(Napi::Env env, Lease<ContextState> context, std::vector<llama_token> tokens, bool normalize) {
    return (new EmbedWorker(env, std::move(context), std::move(tokens), normalize))->Start();
}

}  // namespace llama_napi
