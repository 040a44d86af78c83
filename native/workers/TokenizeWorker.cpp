// model.tokenize(): llama_tokenize on a worker thread (count, then fill).
#include "core/ModelState.h"
#include "core/TokenText.h"
#include "js/Arguments.h"
#include "workers/PromiseWorker.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

class TokenizeWorker : public PromiseWorker {
   public:
    TokenizeWorker(Napi::Env env, std::shared_ptr<ModelState> model, std::string text, bool add_special,
                   bool parse_special)
        : PromiseWorker(env, "llama-napi:tokenize"),
          model_(std::move(model)),
          text_(std::move(text)),
          add_special_(add_special),
          parse_special_(parse_special) {}

   protected:
    void Run() override {
        std::string error;
        if (!Tokenize(model_->vocab, text_, add_special_, parse_special_, tokens_, error)) {
            Fail(ErrorCode::TokenizeFailed, error);
        }
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
