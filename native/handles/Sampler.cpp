// Sampler handle (see Sampler.h).
#include "handles/Sampler.h"

#include "core/ModelState.h"
#include "core/Sampling.h"
#include "handles/Model.h"
#include "handles/Options.h"
#include "js/Arguments.h"
#include "js/Errors.h"

namespace llama_napi {

Napi::Function Sampler::Define(Napi::Env env) {
    return DefineClass(env, kClassName,
                       {
                           InstanceMethod<&Sampler::Accept>("accept"),
                           InstanceMethod<&Sampler::Reset>("reset"),
                           InstanceAccessor<&Sampler::Seed>("seed"),
                           InstanceMethod<&Sampler::Dispose>("dispose"),
                           InstanceAccessor<&Sampler::Disposed>("disposed"),
                       });
}

Sampler::Sampler(const Napi::CallbackInfo & info) : Handle(info) {
    Napi::Env env = info.Env();
    std::shared_ptr<ModelState> model = Model::StateOf(env, info[0], "model");
    SamplingParams params = ReadSamplingParams(env, OptionsObject(env, info[1], "params"), *model);
    NativeFailure failure;
    llama_sampler * chain = BuildSamplerChain(params, *model, failure);
    if (chain == nullptr) {
        Throw(env, failure);
    }
    state_ = std::make_shared<SamplerState>(std::move(model), chain);
}

std::shared_ptr<SamplerState> Sampler::StateOf(Napi::Env env, Napi::Value value, const char * what) {
    Sampler * sampler = FromValue(env, value, what);
    if (!sampler->state_ || sampler->state_->disposed) {
        Throw(env, ErrorCode::Disposed, "the sampler has been disposed");
    }
    return sampler->state_;
}

SamplerState & Sampler::IdleOrThrow(Napi::Env env) const {
    NativeFailure failure{ ErrorCode::Disposed, "the sampler has been disposed" };
    if (!state_ || !state_->CheckIdle(failure)) {
        Throw(env, failure);
    }
    return *state_;
}

Napi::Value Sampler::Accept(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    SamplerState & state = IdleOrThrow(env);
    llama_sampler_accept(state.chain, ReadToken(env, info[0], *state.model, "token"));
    return env.Undefined();
}

Napi::Value Sampler::Reset(const Napi::CallbackInfo & info) {
    llama_sampler_reset(IdleOrThrow(info.Env()).chain);
    return info.Env().Undefined();
}

Napi::Value Sampler::Seed(const Napi::CallbackInfo & info) {
    return Napi::Number::New(info.Env(), llama_sampler_get_seed(IdleOrThrow(info.Env()).chain));
}

Napi::Value Sampler::Dispose(const Napi::CallbackInfo & info) {
    if (state_) {
        state_->MarkDisposed();
        state_.reset();
    }
    return info.Env().Undefined();
}

Napi::Value Sampler::Disposed(const Napi::CallbackInfo & info) { return Napi::Boolean::New(info.Env(), !state_); }

}  // namespace llama_napi
