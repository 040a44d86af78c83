// EngineBridge: the JavaScript side of a context's engine (core/Engine.h) — each request's promise
// and token callback, by id, and the thread-safe function that carries the engine's events to them.
// Contract: Create(), Track() and Unsettled() on the main thread; Deliver() from any thread. Work in
// flight keeps the process alive; an idle bridge does not.
#pragma once

#include <napi.h>

#include <memory>
#include <unordered_map>

#include "core/Abort.h"
#include "core/Engine.h"
#include "js/EventChannel.h"

namespace llama_napi {

class EngineBridge : public EngineListener {
   public:
    static std::shared_ptr<EngineBridge> Create(Napi::Env env);

    /** The promise of request `id`, just submitted; `on_token` (may be empty) gets { token, text }
     *  per generated token. The promise resolves with { tokens, text, stopReason, timings }. */
    Napi::Promise Track(Napi::Env env, uint64_t id, Napi::Function on_token, AbortFlag abort);

    void Deliver(EngineEvent event) override { channel_->Push(std::move(event)); }
    size_t Unsettled() const override { return pending_.size(); }
    void Close() override { channel_->Release(); }

   private:
    struct Pending {
        Napi::Promise::Deferred deferred;
        Napi::FunctionReference on_token;
        AbortFlag abort;
        Napi::Reference<Napi::Value> callback_error;
    };

    EngineBridge() = default;
    void Handle(Napi::Env env, EngineEvent & event);

    std::unordered_map<uint64_t, Pending> pending_;
    std::shared_ptr<EventChannel<EngineEvent>> channel_;
};

}  // namespace llama_napi
