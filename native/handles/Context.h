// Context: the JavaScript handle of a context (core/ContextState.h), made by model.createContext().
// Contract: main thread. Raw operations take the context with a lease (one at a time, BUSY
// otherwise); generate() goes to the context's engine, through the handle's EngineBridge. dispose()
// disposes the state at once (later calls reject with DISPOSED).
#pragma once

#include <napi.h>

#include <memory>

#include "core/ContextState.h"
#include "handles/Handle.h"

namespace llama_napi {

class EngineBridge;
struct GenerationRequest;

class Context : public Handle<Context, ContextState> {
   public:
    static constexpr napi_type_tag kTypeTag = { 0x6c6c616d61616274ULL, 0x6e61706900000003ULL };
    static constexpr const char * kClassName = "Context";

    static Napi::Function Define(Napi::Env env);
    /** Wraps a freshly created context (the workers' WrapContext). */
    static Napi::Object Wrap(Napi::Env env, std::shared_ptr<ContextState> state);

    explicit Context(const Napi::CallbackInfo & info);

   private:
    std::shared_ptr<ContextState> LiveOrThrow(Napi::Env env) const;
    /** The live, idle context for a synchronous call; throws DISPOSED or BUSY. */
    llama_context * IdleOrThrow(Napi::Env env) const;

    Napi::Value Decode(const Napi::CallbackInfo & info);
    Napi::Value Sample(const Napi::CallbackInfo & info);
    Napi::Value Generate(const Napi::CallbackInfo & info);
    Napi::Value Embed(const Napi::CallbackInfo & info);
    Napi::Value SaveSequence(const Napi::CallbackInfo & info);
    Napi::Value LoadSequence(const Napi::CallbackInfo & info);
    Napi::Value ReleaseSequence(const Napi::CallbackInfo & info);
    /** Queues a request on the context's engine (started on first use); its promise. */
    Napi::Promise Submit(Napi::Env env, const std::shared_ptr<ContextState> & state,
                         std::unique_ptr<GenerationRequest> request, Napi::Function on_token);
    Napi::Value MemoryClear(const Napi::CallbackInfo & info);
    Napi::Value MemorySeqRemove(const Napi::CallbackInfo & info);
    Napi::Value MemorySeqPosMax(const Napi::CallbackInfo & info);
    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value Perf(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value Disposed(const Napi::CallbackInfo & info);

    /** The engine's JavaScript side, made with the engine on the first generate(). The engine owns
     *  it (it must go with the engine, not wait for this handle's garbage collection). */
    std::weak_ptr<EngineBridge> bridge_;
};

}  // namespace llama_napi
