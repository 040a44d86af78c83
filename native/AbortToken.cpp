// AbortToken (see AbortToken.h).
#include "AbortToken.h"

#include "AddonData.h"
#include "errors.h"

namespace llama_napi {

Napi::Function AbortToken::Define(Napi::Env env) {
    return DefineClass(env, "AbortToken",
                       {
                           InstanceMethod<&AbortToken::Abort>("abort"),
                           InstanceAccessor<&AbortToken::Aborted>("aborted"),
                       });
}

AbortToken::AbortToken(const Napi::CallbackInfo & info)
    : Napi::ObjectWrap<AbortToken>(info), flag_(std::make_shared<std::atomic<bool>>(false)) {
    info.This().As<Napi::Object>().TypeTag(&kTypeTag);
}

AbortFlag AbortToken::FlagOf(Napi::Env env, Napi::Value value) {
    if (value.IsUndefined() || value.IsNull()) {
        return std::make_shared<std::atomic<bool>>(false);
    }
    return UnwrapHandle<AbortToken>(env, value, "abort")->flag_;
}

Napi::Value AbortToken::Abort(const Napi::CallbackInfo & info) {
    flag_->store(true);
    return info.Env().Undefined();
}

Napi::Value AbortToken::Aborted(const Napi::CallbackInfo & info) { return Napi::Boolean::New(info.Env(), flag_->load()); }

}  // namespace llama_napi
