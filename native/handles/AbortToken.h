// AbortToken: the JavaScript handle of an abort flag (core/Abort.h) that in-flight work polls.
// Contract: main thread; the flag is shared with every operation it is passed to.
#pragma once

#include <napi.h>

#include <atomic>

#include "core/Abort.h"
#include "handles/Handle.h"

namespace llama_napi {

class AbortToken : public Handle<AbortToken, std::atomic<bool>> {
   public:
    static constexpr napi_type_tag kTypeTag = { 0x6c6c616d61616274ULL, 0x6e61706900000001ULL };
    static constexpr const char * kClassName = "AbortToken";

    static Napi::Function Define(Napi::Env env);
    /** The flag of an AbortToken argument, or a fresh unset flag for undefined/null; throws
     *  INVALID_ARGUMENT for anything else. */
    static AbortFlag FlagOf(Napi::Env env, Napi::Value value);

    /** new AbortToken(): a fresh, unset flag. */
    explicit AbortToken(const Napi::CallbackInfo & info);

   private:
    Napi::Value Abort(const Napi::CallbackInfo & info);
    Napi::Value Aborted(const Napi::CallbackInfo & info);
};

}  // namespace llama_napi
