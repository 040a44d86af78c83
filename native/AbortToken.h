// AbortToken: a JS-visible handle on a shared atomic flag that in-flight work polls.
// Contract: the flag is shared (shared_ptr) with every worker it is passed to, so aborting after
// the token is garbage-collected is harmless; workers read it from any thread.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

namespace llama_napi {

using AbortFlag = std::shared_ptr<std::atomic<bool>>;

class AbortToken : public Napi::ObjectWrap<AbortToken> {
   public:
    static Napi::Function Define(Napi::Env env);
    /** The flag of an AbortToken argument, or a fresh unset flag for undefined/null.
     *  Throws INVALID_ARGUMENT for anything else. Main thread. */
    static AbortFlag FlagOf(Napi::Env env, Napi::Value value);

    static constexpr napi_type_tag kTypeTag = { 0x6c6c616d61616274ULL, 0x6e61706900000001ULL };
    static constexpr const char * kClassName = "AbortToken";

    explicit AbortToken(const Napi::CallbackInfo & info);

   private:
    Napi::Value Abort(const Napi::CallbackInfo & info);
    Napi::Value Aborted(const Napi::CallbackInfo & info);

    AbortFlag flag_;
};

}  // namespace llama_napi
