// The shape every handle shares: a JavaScript object of one class, tagged with the class's type tag
// (so an object dressed up with a handle's prototype is rejected, never unwrapped), holding a share
// of its native state. Handles that only the addon makes (Model, Context) receive that state through
// NewInstance(); `new` from JavaScript finds none and is refused by the handle's constructor.
// Contract: main thread only.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <utility>

#include "core/Lease.h"
#include "js/Errors.h"

namespace llama_napi {

template <typename Derived, typename State>
class Handle : public Napi::ObjectWrap<Derived> {
   public:
    /** Wraps `state` in a new object of this class, made with `constructor` (the class's). */
    static Napi::Object NewInstance(Napi::FunctionReference & constructor, std::shared_ptr<State> state) {
        pending_ = std::move(state);
        Napi::Object object = constructor.New({});
        pending_.reset();
        return object;
    }

    /** The handle behind `value`, if it is an object of this class; else throws INVALID_ARGUMENT
     *  naming `what`. */
    static Derived * FromValue(Napi::Env env, Napi::Value value, const char * what) {
        Derived * handle = nullptr;
        if (value.IsObject() && value.As<Napi::Object>().CheckTypeTag(&Derived::kTypeTag)) {
            handle = Derived::Unwrap(value.As<Napi::Object>());
        }
        if (handle == nullptr) {
            Throw(env, ErrorCode::InvalidArgument, std::string(what) + " must be a " + Derived::kClassName);
        }
        return handle;
    }

   protected:
    /** Takes the state NewInstance() is handing over, if any, and tags the object. */
    explicit Handle(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Derived>(info), state_(std::move(pending_)) {
        info.This().template As<Napi::Object>().TypeTag(&Derived::kTypeTag);
    }

    std::shared_ptr<State> state_;

   private:
    static thread_local std::shared_ptr<State> pending_;
};

template <typename Derived, typename State>
thread_local std::shared_ptr<State> Handle<Derived, State>::pending_;

/** Lease<State>::Acquire, throwing BUSY or DISPOSED when the state cannot be taken. */
template <typename State, typename... Args>
Lease<State> AcquireOrThrow(Napi::Env env, std::shared_ptr<State> state, Args &&... args) {
    NativeFailure failure;
    Lease<State> lease = Lease<State>::Acquire(std::move(state), failure, std::forward<Args>(args)...);
    if (!lease) {
        Throw(env, failure);
    }
    return lease;
}

}  // namespace llama_napi
