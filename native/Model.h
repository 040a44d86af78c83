// Model: the JS handle of a loaded llama_model (one owner: ModelState).
// Contract: ModelState owns the llama_model and frees it when the last holder lets go: the
// handle, each of the model's contexts and samplers, and each worker in flight hold a
// shared_ptr, all created and dropped on the main thread. dispose() drops the handle's share at
// once (later calls reject with DISPOSED) and disposes the model's contexts.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "llama.h"

namespace llama_napi {

struct ContextState;

struct ModelState {
    llama_model * model = nullptr;
    const llama_vocab * vocab = nullptr;
    int32_t n_vocab = 0;
    bool vocab_only = false;
    /** Layers llama.cpp put on a GPU (the output layer counts as one, as in its "offloaded n/m"). */
    int32_t offloaded_layers = 0;
    /** The JS handle was disposed (work already in flight may still finish). Main thread only. */
    bool disposed = false;
    /** The contexts created from this model, to dispose with it. Main thread only. */
    std::vector<std::weak_ptr<ContextState>> contexts;

    explicit ModelState(llama_model * m, bool vocab_only_model);
    ~ModelState();
    ModelState(const ModelState &) = delete;
    ModelState & operator=(const ModelState &) = delete;

    /** True when 0 <= token < n_vocab. */
    bool ValidToken(int64_t token) const { return token >= 0 && token < n_vocab; }
};

class Model : public Napi::ObjectWrap<Model> {
   public:
    static constexpr napi_type_tag kTypeTag = { 0x6c6c616d61616274ULL, 0x6e61706900000002ULL };
    static constexpr const char * kClassName = "Model";

    static Napi::Function Define(Napi::Env env);
    /** Wraps a freshly loaded model. Main thread. */
    static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<ModelState> state);
    /** The live state behind a Model argument; throws INVALID_ARGUMENT or DISPOSED. */
    static std::shared_ptr<ModelState> StateOf(Napi::Env env, Napi::Value value, const char * what);

    explicit Model(const Napi::CallbackInfo & info);

   private:
    /** The live state, or nullptr after dispose(). */
    std::shared_ptr<ModelState> Live() const { return state_; }
    std::shared_ptr<ModelState> LiveOrThrow(Napi::Env env) const;

    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value Tokenize(const Napi::CallbackInfo & info);
    Napi::Value Detokenize(const Napi::CallbackInfo & info);
    Napi::Value TokenToPiece(const Napi::CallbackInfo & info);
    Napi::Value IsEog(const Napi::CallbackInfo & info);
    Napi::Value CreateContext(const Napi::CallbackInfo & info);
    Napi::Value GrammarMatch(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value Disposed(const Napi::CallbackInfo & info);

    std::shared_ptr<ModelState> state_;
};

}  // namespace llama_napi
