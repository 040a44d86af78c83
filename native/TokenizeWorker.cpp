// model.tokenize(): llama_tokenize on a worker thread (count, then fill).
#include <algorithm>
#include <climits>

#include "Model.h"
#include "PromiseWorker.h"
#include "Tokens.h"
#include "Workers.h"

namespace llama_napi {

namespace {

class TokenizeWorker : public PromiseWorker {
   public:
    TokenizeWorker(Napi::Env env, std::shared_ptr<ModelState> model, std::string text, bool add_special, bool parse_special)
        : PromiseWorker(env, "llama-napi:tokenize"),
          model_(std::move(model)),
          text_(std::move(text)),
          add_special_(add_special),
          parse_special_(parse_special) {}

   protected:
    void Run() override {
        if (text_.size() > static_cast<size_t>(INT32_MAX)) {
            Fail(ErrorCode::TokenizeFailed, "text is too long to tokenize (over 2 GiB)");
            return;
        }
        const auto length = static_cast<int32_t>(text_.size());
        // A first guess that fits most texts (bounded, so a huge text does not reserve gigabytes
        // up front); llama_tokenize returns -needed when it is short.
        tokens_.resize(std::min<size_t>(text_.size() / 2 + 8, size_t{ 1 } << 22));
        int32_t n = llama_tokenize(model_->vocab, text_.data(), length, tokens_.data(), static_cast<int32_t>(tokens_.size()),
                                   add_special_, parse_special_);
        if (n < 0 && n != INT32_MIN) {
            tokens_.resize(static_cast<size_t>(-n));
            n = llama_tokenize(model_->vocab, text_.data(), length, tokens_.data(), static_cast<int32_t>(tokens_.size()),
                               add_special_, parse_special_);
        }
        if (n < 0) {
            Fail(ErrorCode::TokenizeFailed, "llama.cpp could not tokenize the text (too many tokens)");
            return;
        }
        tokens_.resize(static_cast<size_t>(n));
    }

    Napi::Value Result(Napi::Env env) override { return MakeTokenArray(env, tokens_); }

   private:
    std::shared_ptr<ModelState> model_;
    std::string text_;
    bool add_special_;
    bool parse_special_;
    std::vector<llama_token> tokens_;
};

}  // namespace

Napi::Promise StartTokenize(Napi::Env env, std::shared_ptr<ModelState> model, std::string text, bool add_special,
                            bool parse_special) {
    return (new TokenizeWorker(env, std::move(model), std::move(text), add_special, parse_special))->Start();
}

}  // namespace llama_napi
