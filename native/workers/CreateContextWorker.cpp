// model.createContext(): llama_init_from_model on a worker thread (it allocates the KV cache
// and compute buffers, which can take a while and can fail for lack of memory), and for speculative
// decoding the draft model's context and llama.cpp's drafter.
#include <algorithm>
#include <exception>

#include "core/ModelState.h"
#include "js/AddonData.h"
#include "runtime/Backends.h"
#include "runtime/Log.h"
#include "speculative.h"  // llama.cpp common's speculative decoding
#include "workers/PromiseWorker.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

class CreateContextWorker : public PromiseWorker {
   public:
    CreateContextWorker(Napi::Env env, std::shared_ptr<ModelState> model, llama_context_params params,
                        SpeculativeConfig speculative, WrapContext wrap)
        : PromiseWorker(env, "llama-napi:createContext"),
          model_(std::move(model)),
          params_(params),
          speculative_(std::move(speculative)),
          wrap_(wrap) {}

    ~CreateContextWorker() override {
        // Created, but never handed to JS.
        drafter_.reset();  // before the target context it refers to
        if (ctx_ != nullptr) {
            llama_free(ctx_);
        }
        if (threadpool_ != nullptr) {
            ThreadpoolFree(threadpool_);
        }
    }

   protected:
    void Run() override {
        if (model_->RpcLost()) {
            Fail(ErrorCode::RpcFailed, model_->RpcLostMessage());
            return;
        }
        LogCapture log;
        ctx_ = llama_init_from_model(model_->model, params_);
        if (model_->RpcLost()) {
            Fail(ErrorCode::RpcFailed, model_->RpcLostMessage());  // the destructor frees ctx_
            return;
        }
        if (ctx_ == nullptr) {
            Fail(ErrorCode::ContextCreateFailed,
                 log.Describe("llama.cpp could not create a context of " + std::to_string(params_.n_ctx) + " tokens"));
            return;
        }
        // One pool serves both single-token and batch decodes (llama.cpp uses as many of its
        // threads as each asks for). Its workers poll briefly after a decode, then sleep.
        ggml_threadpool_params pool_params =
            ggml_threadpool_params_default(std::max(params_.n_threads, params_.n_threads_batch));
        // With layers on RPC servers a decode mostly waits on the network: workers that poll
        // meanwhile take the CPU from a server on the same machine (on loopback, 3x slower).
        if (!model_->rpc_endpoints.empty()) pool_params.poll = 0;
        threadpool_ = ThreadpoolNew(&pool_params);
        if (threadpool_ == nullptr) {
            Fail(ErrorCode::ContextCreateFailed, log.Describe("ggml could not start a thread pool"));
            return;
        }
        if (speculative_.Enabled()) {
            MakeDrafter();
        }
        if (Failed()) return;
        // Asks each device for its memory: an RPC server's over the network, so a server lost
        // since the context was made shows here.
        memory_ = ContextMemory(ctx_);
        if (model_->RpcLost()) {
            Fail(ErrorCode::RpcFailed, model_->RpcLostMessage());
        }
    }

    /** The draft model's context (as large as the target's, as many sequences) and llama.cpp's
     *  drafter over it and the n-gram lookup. */
    void MakeDrafter() {
        // Verifying a draft drops the rejected tail of a sequence: a recurrent state cannot.
        const auto cannot_rewind = [](const llama_model * model) {
            return llama_model_is_recurrent(model) || llama_model_is_hybrid(model);
        };
        if (cannot_rewind(model_->model)) {
            Fail(ErrorCode::Unsupported,
                 "speculative decoding needs a memory that can drop a sequence's tail; this model's is recurrent");
            return;
        }
        drafter_ = std::make_unique<Speculation>();
        drafter_->config = speculative_;
        common_params_speculative params;
        params.types.clear();
        if (speculative_.lookup) {
            // Prompt lookup: the last 6 tokens matched earlier in the sequence, the 16 after them drafted
            // (shorter n-grams draft more often than they are right: bench/speculative.mjs).
            params.types.push_back(COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE);
            params.ngram_simple.size_n = 6;
            params.ngram_simple.size_m =
                static_cast<uint16_t>(speculative_.max_draft > 0 ? speculative_.max_draft : 16);
        }
        LogCapture log;
        if (speculative_.draft_model != nullptr) {
            const llama_model * draft = speculative_.draft_model->model;
            if (cannot_rewind(draft)) {
                Fail(ErrorCode::InvalidDraftModel,
                     "the draft model is recurrent: its memory cannot drop a rejected draft");
                return;
            }
            llama_context_params draft_params = params_;
            draft_params.n_ctx = llama_n_ctx(ctx_);
            draft_params.embeddings = false;
            draft_params.pooling_type = LLAMA_POOLING_TYPE_UNSPECIFIED;
            drafter_->draft_ctx = llama_init_from_model(speculative_.draft_model->model, draft_params);
            if (drafter_->draft_ctx == nullptr) {
                Fail(ErrorCode::ContextCreateFailed,
                     log.Describe("llama.cpp could not create the draft model's context"));
                return;
            }
            params.types.push_back(COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE);
            params.draft.ctx_tgt = ctx_;
            params.draft.ctx_dft = drafter_->draft_ctx;
            if (speculative_.max_draft > 0) {
                params.draft.n_max = speculative_.max_draft;
            }
        }
        try {
            drafter_->spec = common_speculative_init(params, llama_n_seq_max(ctx_));
        } catch (const std::exception & e) {
            // common_speculative refuses a draft model whose vocabulary differs from the target's.
            Fail(ErrorCode::InvalidDraftModel, std::string("the draft model cannot draft for this model: ") + e.what());
            return;
        }
        if (drafter_->spec == nullptr) {
            Fail(ErrorCode::ContextCreateFailed, log.Describe("llama.cpp could not start speculative decoding"));
        }
    }

    Napi::Value Result(Napi::Env env) override {
        if (model_->disposed) {
            // The model was disposed while its context was being created: it must not outlive it.
            throw MakeError(env, ErrorCode::Disposed, "the model was disposed while the context was being created");
        }
        auto state = std::make_shared<ContextState>(model_, ctx_, threadpool_, std::move(drafter_));
        state->memory = std::move(memory_);
        ctx_ = nullptr;  // owned by the state from here
        threadpool_ = nullptr;
        Remember(model_->contexts, state);
        Remember(AddonData::Of(env).contexts, state);
        return wrap_(env, std::move(state));
    }

   private:
    std::shared_ptr<ModelState> model_;
    llama_context_params params_;
    SpeculativeConfig speculative_;
    WrapContext wrap_;
    std::unique_ptr<Speculation> drafter_;
    MemoryBreakdown memory_;
    llama_context * ctx_ = nullptr;
    ggml_threadpool * threadpool_ = nullptr;
};

}  // namespace

Napi::Promise StartCreateContext(Napi::Env env, std::shared_ptr<ModelState> model, llama_context_params params,
                                 SpeculativeConfig speculative, WrapContext wrap) {
    return (new CreateContextWorker(env, std::move(model), params, std::move(speculative), wrap))->Start();
}

}  // namespace llama_napi
