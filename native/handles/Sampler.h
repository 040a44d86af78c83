// Sampler: the JavaScript handle of a sampler chain (core/SamplerState.h), for the raw API's
// decode → sample loop. Contract: main thread; used by one operation at a time (BUSY otherwise);
// dispose() frees the chain at once if idle, else when the operation using it lets go.
#pragma once

#include <napi.h>

#include <memory>

#include "core/SamplerState.h"
#include "handles/Handle.h"

namespace llama_napi {

class Sampler : public Handle<Sampler, SamplerState> {
   public:
    static constexpr napi_type_tag kTypeTag = { 0x6c6c616d61616274ULL, 0x6e61706900000004ULL };
    static constexpr const char * kClassName = "Sampler";

    static Napi::Function Define(Napi::Env env);
    /** The live state behind a Sampler argument; throws INVALID_ARGUMENT or DISPOSED. */
    static std::shared_ptr<SamplerState> StateOf(Napi::Env env, Napi::Value value, const char * what);

    /** new Sampler(model, params): builds the chain synchronously (cheap). */
    explicit Sampler(const Napi::CallbackInfo & info);

   private:
    SamplerState & IdleOrThrow(Napi::Env env) const;
    Napi::Value Accept(const Napi::CallbackInfo & info);
    Napi::Value Reset(const Napi::CallbackInfo & info);
    Napi::Value Seed(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value Disposed(const Napi::CallbackInfo & info);
};

}  // namespace llama_napi
