// Why a generation stopped. The names are the ones JavaScript sees (lib/binding.ts, StopReason; the
// addon exports them as `stopReasons` and a test checks the two agree). Thread-agnostic.
#pragma once

// X-macro: (identifier, "name").
#define LLAMA_NAPI_STOP_REASONS(X) \
    X(Eog, "eog")                  \
    X(MaxTokens, "maxTokens")      \
    X(ContextFull, "contextFull")  \
    X(Abort, "abort")              \
    X(Stop, "stop")

namespace llama_napi {

enum class StopReason {
#define LLAMA_NAPI_ENUM(id, text) id,
    LLAMA_NAPI_STOP_REASONS(LLAMA_NAPI_ENUM)
#undef LLAMA_NAPI_ENUM
};

inline const char * StopReasonName(StopReason reason) {
    switch (reason) {
#define LLAMA_NAPI_NAME(id, text) \
    case StopReason::id: return text;
        LLAMA_NAPI_STOP_REASONS(LLAMA_NAPI_NAME)
#undef LLAMA_NAPI_NAME
    }
    return "abort";
}

}  // namespace llama_napi
