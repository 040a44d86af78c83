// model.tokenToPiece(): the raw bytes of each token's piece, on a worker thread.
#include <algorithm>

#include "core/ModelState.h"
#include "core/TokenText.h"
#include "workers/PromiseWorker.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

class TokenToPieceWorker : public PromiseWorker {
   public:
    TokenToPieceWorker(Napi::Env env, std::shared_ptr<ModelState> model, std::vector<llama_token> tokens, bool special)
        : PromiseWorker(env, "llama-napi:tokenToPiece"),
          model_(std::move(model)),
          tokens_(std::move(tokens)),
          special_(special) {}

   protected:
    void Run() override {
        pieces_.resize(tokens_.size());
        for (size_t i = 0; i < tokens_.size(); ++i) {
            if (!AppendPiece(model_->vocab, tokens_[i], special_, pieces_[i])) {
                Fail(ErrorCode::NativeError, "llama.cpp could not render token " + std::to_string(tokens_[i]));
                return;
            }
        }
    }

    Napi::Value Result(Napi::Env env) override {
        Napi::Array result = Napi::Array::New(env, pieces_.size());
        for (size_t i = 0; i < pieces_.size(); ++i) {
            Napi::Uint8Array bytes = Napi::Uint8Array::New(env, pieces_[i].size());
            std::copy(pieces_[i].begin(), pieces_[i].end(), bytes.Data());
            result.Set(static_cast<uint32_t>(i), bytes);
        }
        return result;
    }

   private:
    std::shared_ptr<ModelState> model_;
    std::vector<llama_token> tokens_;
    bool special_;
    std::vector<std::string> pieces_;
};

}  // namespace

Napi::Promise StartTokenToPiece(Napi::Env env, std::shared_ptr<ModelState> model, std::vector<llama_token> tokens,
                                bool special) {
    return (new TokenToPieceWorker(env, std::move(model), std::move(tokens), special))->Start();
}

}  // namespace llama_napi
