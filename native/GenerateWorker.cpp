// context.generate(): the whole generation loop on a worker thread — prompt evaluation in
// batches, then sample → detokenize → decode per token with no JS round trip; pieces reach an
// optional onToken callback in batches through a thread-safe function.
#include <chrono>

#include "Context.h"
#include "Decoding.h"
#include "EventChannel.h"
#include "Model.h"
#include "PromiseWorker.h"
#include "TokenPiece.h"
#include "Tokens.h"
#include "Workers.h"

namespace llama_napi {

namespace {

struct TokenEvent {
    llama_token token;
    std::string text;  // whole UTF-8 characters only (may be empty while a character is split)
};

enum class StopReason { Eog, MaxTokens, ContextFull, Abort };

const char * StopReasonName(StopReason reason) {
    switch (reason) {
        case StopReason::Eog: return "eog";
        case StopReason::MaxTokens: return "maxTokens";
        case StopReason::ContextFull: return "contextFull";
        case StopReason::Abort: return "abort";
    }
    return "abort";
}

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

class GenerateWorker : public PromiseWorker {
   public:
    GenerateWorker(Napi::Env env, ContextLease context, GenerateRequest request, Napi::Function on_token, AbortFlag abort)
        : PromiseWorker(env, "llama-napi:generate"),
          abort_(std::move(abort)),
          context_(std::move(context)),
          request_(std::move(request)) {
        if (!on_token.IsEmpty()) {
            tokens_channel_ = EventChannel<TokenEvent>::Create(env, on_token, "llama-napi:generate:onToken",
                                                               [](Napi::Env e, TokenEvent & event) -> Napi::Value {
                                                                   Napi::Object chunk = Napi::Object::New(e);
                                                                   chunk.Set("token", Napi::Number::New(e, event.token));
                                                                   chunk.Set("text", Napi::String::New(e, event.text));
                                                                   return chunk;
                                                               });
        }
    }

   protected:
    void Run() override {
        ContextState & context = *context_;
        const ModelState & model = *context.model;
        llama_context * ctx = context.ctx;

        std::string error;
        llama_sampler * sampler = BuildSamplerChain(request_.sampling, model, error);
        if (sampler == nullptr) {
            Fail(ErrorCode::SamplerFailed, error);
            return;
        }
        llama_batch batch = llama_batch_init(static_cast<int32_t>(llama_n_batch(ctx)), 0, 1);
        Loop(context, model, sampler, batch);
        llama_batch_free(batch);
        llama_sampler_free(sampler);
    }

    void Settle() override {
        if (tokens_channel_) {
            tokens_channel_->Close(Env());
        }
        context_.Release();
    }

    Napi::Value CallbackError(Napi::Env env) override {
        return tokens_channel_ && tokens_channel_->Failed() ? tokens_channel_->Error(env) : Napi::Value();
    }

    Napi::Value Result(Napi::Env env) override {
        if (tokens_channel_ && tokens_channel_->Failed()) {
            throw Napi::Error(env, tokens_channel_->Error(env));
        }
        Napi::Object result = Napi::Object::New(env);
        result.Set("tokens", MakeTokenArray(env, generated_));
        result.Set("text", Napi::String::New(env, text_));
        result.Set("stopReason", Napi::String::New(env, StopReasonName(stop_reason_)));
        Napi::Object timings = Napi::Object::New(env);
        timings.Set("promptTokens", Napi::Number::New(env, static_cast<double>(request_.prompt.size())));
        timings.Set("promptMs", Napi::Number::New(env, prompt_ms_));
        timings.Set("generatedTokens", Napi::Number::New(env, static_cast<double>(generated_.size())));
        timings.Set("generateMs", Napi::Number::New(env, generate_ms_));
        result.Set("timings", timings);
        return result;
    }

   private:
    bool Stopping() const { return abort_->load(std::memory_order_relaxed) || (tokens_channel_ && tokens_channel_->Failed()); }

    void FailStopped(ContextState & context) {
        if (context.disposed.load()) {
            Fail(ErrorCode::Disposed, "the context was disposed during generation");
        }
    }

    void Loop(ContextState & context, const ModelState & model, llama_sampler * sampler, llama_batch & batch) {
        llama_context * ctx = context.ctx;
        llama_memory_clear(llama_get_memory(ctx), true);

        // 1. the prompt
        const auto prompt_start = std::chrono::steady_clock::now();
        DecodeOutcome prompt = DecodeTokens(context, request_.prompt.data(), request_.prompt.size(), 0, false, batch);
        prompt_ms_ = MillisecondsSince(prompt_start);
        if (prompt.aborted || (!prompt.ok && Stopping())) {
            stop_reason_ = StopReason::Abort;
            FailStopped(context);
            return;
        }
        if (!prompt.ok) {
            Fail(prompt.code, prompt.message);
            return;
        }

        // 2. token by token
        const auto generate_start = std::chrono::steady_clock::now();
        const size_t n_ctx = llama_n_ctx_seq(ctx);
        size_t n_past = request_.prompt.size();
        generated_.reserve(std::min<size_t>(static_cast<size_t>(request_.max_tokens), n_ctx));
        std::string pending;  // bytes of a UTF-8 character split across tokens
        stop_reason_ = StopReason::MaxTokens;
        while (generated_.size() < static_cast<size_t>(request_.max_tokens)) {
            if (Stopping() || context.ShouldStop()) {
                stop_reason_ = StopReason::Abort;
                break;
            }
            const llama_token token = llama_sampler_sample(sampler, ctx, -1);
            if (llama_vocab_is_eog(model.vocab, token)) {
                stop_reason_ = StopReason::Eog;
                break;
            }
            generated_.push_back(token);
            const size_t before = text_.size();
            if (!AppendPiece(model.vocab, token, request_.special, text_)) {
                Fail(ErrorCode::NativeError, "llama.cpp could not render token " + std::to_string(token));
                break;
            }
            if (tokens_channel_) {
                pending.append(text_, before, std::string::npos);
                const size_t complete = CompleteUtf8Prefix(pending);
                tokens_channel_->Push(TokenEvent{ token, pending.substr(0, complete) });
                pending.erase(0, complete);
            }
            if (generated_.size() >= static_cast<size_t>(request_.max_tokens)) {
                stop_reason_ = StopReason::MaxTokens;
                break;
            }
            if (n_past >= n_ctx) {
                stop_reason_ = StopReason::ContextFull;
                break;
            }
            DecodeOutcome step = DecodeTokens(context, &token, 1, 0, false, batch);
            if (step.aborted || (!step.ok && Stopping())) {
                stop_reason_ = StopReason::Abort;
                break;
            }
            if (!step.ok) {
                Fail(step.code, step.message);
                break;
            }
            ++n_past;
        }
        if (tokens_channel_ && !pending.empty()) {
            tokens_channel_->Push(TokenEvent{ generated_.empty() ? LLAMA_TOKEN_NULL : generated_.back(), pending });
        }
        generate_ms_ = MillisecondsSince(generate_start);
        if (stop_reason_ == StopReason::Abort) {
            FailStopped(context);
        }
    }

    AbortFlag abort_;
    ContextLease context_;
    GenerateRequest request_;
    std::shared_ptr<EventChannel<TokenEvent>> tokens_channel_;
    std::vector<llama_token> generated_;
    std::string text_;
    StopReason stop_reason_ = StopReason::MaxTokens;
    double prompt_ms_ = 0;
    double generate_ms_ = 0;
};

}  // namespace

Napi::Promise StartGenerate(Napi::Env env, ContextLease context, GenerateRequest request, Napi::Function on_token,
                            AbortFlag abort) {
    return (new GenerateWorker(env, std::move(context), std::move(request), on_token, std::move(abort)))->Start();
}

}  // namespace llama_napi
