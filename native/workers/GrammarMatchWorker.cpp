// model.grammarMatch(): runs tokens through llama.cpp's grammar engine (the grammar sampler) and
// reports how many it accepts and whether the grammar could end after them — "does this grammar
// accept this text", answered by llama.cpp itself. Never accepts a token the grammar rejects or an
// end-of-generation token (either would abort inside llama.cpp).
#include "core/ModelState.h"
#include "core/Sampling.h"
#include "runtime/Log.h"
#include "workers/PromiseWorker.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

class GrammarMatchWorker : public PromiseWorker {
   public:
    GrammarMatchWorker(Napi::Env env, std::shared_ptr<ModelState> model, std::string grammar, std::string root,
                       std::vector<llama_token> tokens)
        : PromiseWorker(env, "llama-napi:grammarMatch"),
          model_(std::move(model)),
          grammar_(std::move(grammar)),
          root_(std::move(root)),
          tokens_(std::move(tokens)) {}

   protected:
    void Run() override {
        LogCapture log;
        llama_sampler * sampler = llama_sampler_init_grammar(model_->vocab, grammar_.c_str(), root_.c_str());
        if (sampler == nullptr) {
            Fail(ErrorCode::InvalidGrammar, log.Describe("llama.cpp rejected the grammar"));
            return;
        }
        try {
            for (llama_token token : tokens_) {
                if (llama_vocab_is_eog(model_->vocab, token) || !GrammarAllows(sampler, token)) {
                    break;
                }
                llama_sampler_accept(sampler, token);
                ++accepted_;
            }
            llama_token end = llama_vocab_eos(model_->vocab);
            if (end == LLAMA_TOKEN_NULL) end = llama_vocab_eot(model_->vocab);
            complete_ = accepted_ == tokens_.size() && end != LLAMA_TOKEN_NULL && GrammarAllows(sampler, end);
        } catch (const std::exception &) {
            complete_ = false;  // llama.cpp found the grammar stuck: the text is not accepted
        }
        llama_sampler_free(sampler);
    }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object result = Napi::Object::New(env);
        result.Set("accepted", Napi::Number::New(env, static_cast<double>(accepted_)));
        result.Set("complete", Napi::Boolean::New(env, complete_));
        return result;
    }

   private:
    std::shared_ptr<ModelState> model_;
    std::string grammar_;
    std::string root_;
    std::vector<llama_token> tokens_;
    size_t accepted_ = 0;
    bool complete_ = false;
};

}  // namespace

Napi::Promise StartGrammarMatch(Napi::Env env, std::shared_ptr<ModelState> model, std::string grammar, std::string root,
                                std::vector<llama_token> tokens) {
    return (new GrammarMatchWorker(env, std::move(model), std::move(grammar), std::move(root), std::move(tokens)))
        ->Start();
}

}  // namespace llama_napi
