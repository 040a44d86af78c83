// The engine's events as promises and token callbacks (see EngineBridge.h).
#include "js/EngineBridge.h"

#include "js/Arguments.h"
#include "js/Errors.h"

namespace llama_napi {

namespace {

Napi::Object MakeProbability(Napi::Env env, const TokenProbability & entry) {
    Napi::Object object = Napi::Object::New(env);
    object.Set("token", Napi::Number::New(env, entry.token));
    object.Set("text", Napi::String::New(env, entry.text));
    object.Set("logprob", Napi::Number::New(env, entry.logprob));
    return object;
}

Napi::Object MakeLogprobs(Napi::Env env, const TokenLogprobs & logprobs) {
    Napi::Object object = MakeProbability(env, logprobs.chosen);
    Napi::Array top = Napi::Array::New(env, logprobs.top.size());
    for (size_t i = 0; i < logprobs.top.size(); ++i) {
        top.Set(static_cast<uint32_t>(i), MakeProbability(env, logprobs.top[i]));
    }
    object.Set("top", top);
    return object;
}

/** Bytes for JavaScript, moved (not copied) where the runtime allows external buffers. */
Napi::Value MakeBytes(Napi::Env env, std::vector<uint8_t> bytes) {
    if (bytes.empty()) {
        return Napi::Buffer<uint8_t>::New(env, 0);
    }
    auto * owned = new std::vector<uint8_t>(std::move(bytes));
    return Napi::Buffer<uint8_t>::NewOrCopy(env, owned->data(), owned->size(),
                                            [owned](Napi::Env, uint8_t *) { delete owned; });
}

Napi::Object MakeSequenceResult(Napi::Env env, EngineEvent & event) {
    Napi::Object result = Napi::Object::New(env);
    result.Set("tokens", MakeTokenArray(env, event.tokens));
    result.Set("state", MakeBytes(env, std::move(event.state)));
    result.Set("draftState", MakeBytes(env, std::move(event.draft_state)));
    return result;
}

Napi::Object MakeResult(Napi::Env env, const EngineEvent & event) {
    Napi::Object result = Napi::Object::New(env);
    result.Set("tokens", MakeTokenArray(env, event.tokens));
    result.Set("text", Napi::String::New(env, event.text));
    result.Set("stopReason", Napi::String::New(env, StopReasonName(event.stop_reason)));
    Napi::Object timings = Napi::Object::New(env);
    timings.Set("promptTokens", Napi::Number::New(env, static_cast<double>(event.prompt_tokens)));
    timings.Set("reusedTokens", Napi::Number::New(env, static_cast<double>(event.reused_tokens)));
    timings.Set("promptMs", Napi::Number::New(env, event.prompt_ms));
    timings.Set("generatedTokens", Napi::Number::New(env, static_cast<double>(event.tokens.size())));
    timings.Set("generateMs", Napi::Number::New(env, event.generate_ms));
    timings.Set("draftTokens", Napi::Number::New(env, static_cast<double>(event.draft_tokens)));
    timings.Set("acceptedTokens", Napi::Number::New(env, static_cast<double>(event.accepted_tokens)));
    result.Set("timings", timings);
    if (event.has_logprob) {
        Napi::Array logprobs = Napi::Array::New(env, event.logprobs.size());
        for (size_t i = 0; i < event.logprobs.size(); ++i) {
            logprobs.Set(static_cast<uint32_t>(i), MakeLogprobs(env, event.logprobs[i]));
        }
        result.Set("logprobs", logprobs);
    }
    return result;
}

}  // namespace

std::shared_ptr<EngineBridge> EngineBridge::Create(Napi::Env env) {
    std::shared_ptr<EngineBridge> bridge(new EngineBridge());
    // The channel's handler holds the bridge; the channel drops it once its thread-safe function
    // is finalized, which breaks the cycle.
    bridge->channel_ = EventChannel<EngineEvent>::Create(
        env, "llama-napi:engine", [bridge](Napi::Env e, EngineEvent & event) { bridge->Handle(e, event); });
    bridge->channel_->Unref(env);
    return bridge;
}

Napi::Promise EngineBridge::Track(Napi::Env env, uint64_t id, Napi::Function on_token, AbortFlag abort) {
    Pending pending{ Napi::Promise::Deferred::New(env), Napi::FunctionReference(), std::move(abort),
                     Napi::Reference<Napi::Value>() };
    if (!on_token.IsEmpty()) {
        pending.on_token = Napi::Persistent(on_token);
    }
    Napi::Promise promise = pending.deferred.Promise();
    if (pending_.empty()) {
        channel_->Ref(env);  // work in flight keeps the process alive
    }
    pending_.emplace(id, std::move(pending));
    return promise;
}

void EngineBridge::Handle(Napi::Env env, EngineEvent & event) {
    auto it = pending_.find(event.id);
    if (it == pending_.end()) {
        return;
    }
    Pending & request = it->second;
    if (!event.done) {
        if (request.on_token.IsEmpty() || !request.callback_error.IsEmpty()) {
            return;
        }
        Napi::Object chunk = Napi::Object::New(env);
        chunk.Set("token", Napi::Number::New(env, event.token));
        chunk.Set("text", Napi::String::New(env, event.text));
        if (event.has_logprob) {
            chunk.Set("logprobs", MakeLogprobs(env, event.logprob));
        }
        try {
            request.on_token.Call({ chunk });
        } catch (const Napi::Error & error) {
            // The callback's error becomes the request's; the engine stops it at its next step.
            request.callback_error = Napi::Persistent(static_cast<Napi::Value>(error.Value()));
            request.abort->store(true);
        }
        return;
    }
    if (!request.callback_error.IsEmpty()) {
        request.deferred.Reject(request.callback_error.Value());
    } else if (event.failed) {
        request.deferred.Reject(MakeError(env, event.failure.code, event.failure.message).Value());
    } else {
        request.deferred.Resolve(event.sequence_op ? MakeSequenceResult(env, event) : MakeResult(env, event));
    }
    pending_.erase(it);
    if (pending_.empty()) {
        channel_->Unref(env);  // idle: let the process exit
    }
}

}  // namespace llama_napi
