// Model: the JavaScript handle of a loaded model (core/ModelState.h), made by loadModel().
// Contract: main thread. dispose() drops the handle's share of the state at once (later calls
// reject with DISPOSED) and disposes the model's contexts; the model is freed when work in flight
// lets go.
#pragma once

#include <napi.h>

#include <memory>

#include "core/ModelState.h"
#include "handles/Handle.h"

namespace llama_napi {

class Model : public Handle<Model, ModelState> {
   public:
    static constexpr napi_type_tag kTypeTag = { 0x6c6c616d61616274ULL, 0x6e61706900000002ULL };
    static constexpr const char * kClassName = "Model";

    static Napi::Function Define(Napi::Env env);
    /** Wraps a freshly loaded model (the workers' WrapModel). */
    static Napi::Object Wrap(Napi::Env env, std::shared_ptr<ModelState> state);
    /** The live state behind a Model argument; throws INVALID_ARGUMENT or DISPOSED. */
    static std::shared_ptr<ModelState> StateOf(Napi::Env env, Napi::Value value, const char * what);

    explicit Model(const Napi::CallbackInfo & info);

   private:
    std::shared_ptr<ModelState> LiveOrThrow(Napi::Env env) const;

    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value Tokenize(const Napi::CallbackInfo & info);
    Napi::Value Detokenize(const Napi::CallbackInfo & info);
    Napi::Value TokenToPiece(const Napi::CallbackInfo & info);
    Napi::Value IsEog(const Napi::CallbackInfo & info);
    Napi::Value CreateContext(const Napi::CallbackInfo & info);
    Napi::Value GrammarMatch(const Napi::CallbackInfo & info);
    Napi::Value LoadLora(const Napi::CallbackInfo & info);
    Napi::Value ApplyChat(const Napi::CallbackInfo & info);
    Napi::Value ParseChat(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value Disposed(const Napi::CallbackInfo & info);
};

}  // namespace llama_napi
