// model.detokenize(): llama_detokenize on a worker thread (grow the buffer when it is short).
#include <climits>

#include "core/ModelState.h"
#include "workers/PromiseWorker.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

class DetokenizeWorker : public PromiseWorker {
   public:
    DetokenizeWorker(Napi::Env env, std::shared_ptr<ModelState> model, std::vector<llama_token> tokens,
                     bool remove_special, bool unparse_special)
        : PromiseWorker(env, "llama-napi:detokenize"),
          model_(std::move(model)),
          tokens_(std::move(tokens)),
          remove_special_(remove_special),
          unparse_special_(unparse_special) {}

   protected:
    void Run() override {
        if (tokens_.size() > static_cast<size_t>(INT32_MAX)) {
            Fail(ErrorCode::InvalidArgument, "too many tokens to detokenize");
            return;
        }
        const auto count = static_cast<int32_t>(tokens_.size());
        text_.resize(tokens_.size() * 4 + 16);
        int32_t n = llama_detokenize(model_->vocab, tokens_.data(), count, text_.data(),
                                     static_cast<int32_t>(text_.size()), remove_special_, unparse_special_);
        if (n < 0 && n != INT32_MIN) {
            text_.resize(static_cast<size_t>(-n));
            n = llama_detokenize(model_->vocab, tokens_.data(), count, text_.data(), static_cast<int32_t>(text_.size()),
                                 remove_special_, unparse_special_);
        }
        if (n < 0) {
            Fail(ErrorCode::NativeError, "llama.cpp could not detokenize the tokens");
            return;
        }
        text_.resize(static_cast<size_t>(n));
    }

    Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, text_); }

   private:
    std::shared_ptr<ModelState> model_;
    std::vector<llama_token> tokens_;
    bool remove_special_;
    bool unparse_special_;
    std::string text_;
};

}  // namespace

Napi::Promise StartDetokenize(Napi::Env env, std::shared_ptr<ModelState> model, std::vector<llama_token> tokens,
                              bool remove_special, bool unparse_special) {
    return (new DetokenizeWorker(env, std::move(model), std::move(tokens), remove_special, unparse_special))->Start();
}

}  // namespace llama_napi
