// The abort flag of one operation: set by its AbortToken (main thread), read by the work (any thread).
// Contract: shared by the token and every piece of work it was passed to, so aborting after the
// token was garbage-collected, or after the work ended, is harmless.
#pragma once

#include <atomic>
#include <memory>

namespace llama_napi {

using AbortFlag = std::shared_ptr<std::atomic<bool>>;

/** A fresh, unset flag. */
inline AbortFlag NewAbortFlag() { return std::make_shared<std::atomic<bool>>(false); }

}  // namespace llama_napi
