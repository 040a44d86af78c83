// AbortToken (see AbortToken.h).
#include "handles/AbortToken.h"

namespace llama_napi {

Napi::Function AbortToken::Define(Napi::Env env) {
    return DefineClass(env, kClassName,
                       {
                           InstanceMethod<&AbortToken::Abort>("abort"),
                           InstanceAccessor<&AbortToken::Aborted>("aborted"),
                       });
}

AbortToken::AbortToken(const Napi::CallbackInfo & info) : Handle(info) { state_ = NewAbortFlag(); }

AbortFlag AbortToken::FlagOf(Napi::Env env, Napi::Value value) {
    if (value.IsUndefined() || value.IsNull()) {
        return NewAbortFlag();
    }
    return FromValue(env, value, "abort")->state_;
}

Napi::Value AbortToken::Abort(const Napi::CallbackInfo & info) {
    state_->store(true);
    return info.Env().Undefined();
}

Napi::Value AbortToken::Aborted(const Napi::CallbackInfo & info) {
    return Napi::Boolean::New(info.Env(), state_->load());
}

}  // namespace llama_napi
