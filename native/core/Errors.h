// The error codes the addon raises (lib/errors.ts lists them too, with the codes only TypeScript
// raises; a test checks the two agree), and a failure carried between threads as plain data.
// Contract: thread-agnostic, no Node-API; js/Errors.h turns a failure into a JavaScript error.
#pragma once

#include <string>

// X-macro: (identifier, "CODE").
#define LLAMA_NAPI_ERROR_CODES(X)                   \
    X(InvalidArgument, "INVALID_ARGUMENT")          \
    X(ModelLoadFailed, "MODEL_LOAD_FAILED")         \
    X(ContextCreateFailed, "CONTEXT_CREATE_FAILED") \
    X(ContextOverflow, "CONTEXT_OVERFLOW")          \
    X(TokenizeFailed, "TOKENIZE_FAILED")            \
    X(DecodeFailed, "DECODE_FAILED")                \
    X(SamplerFailed, "SAMPLER_FAILED")              \
    X(InvalidGrammar, "INVALID_GRAMMAR")            \
    X(VocabOnly, "VOCAB_ONLY")                      \
    X(Busy, "BUSY")                                 \
    X(Disposed, "DISPOSED")                         \
    X(Aborted, "ABORTED")                           \
    X(Unsupported, "UNSUPPORTED")                   \
    X(InvalidLora, "INVALID_LORA")                  \
    X(InvalidDraftModel, "INVALID_DRAFT_MODEL")     \
    X(InvalidChatTemplate, "INVALID_CHAT_TEMPLATE") \
    X(InvalidSessionFile, "INVALID_SESSION_FILE")   \
    X(RpcFailed, "RPC_FAILED")                      \
    X(InsufficientMemory, "INSUFFICIENT_MEMORY")    \
    X(NativeError, "NATIVE_ERROR")

namespace llama_napi {

enum class ErrorCode {
#define LLAMA_NAPI_ENUM(id, text) id,
    LLAMA_NAPI_ERROR_CODES(LLAMA_NAPI_ENUM)
#undef LLAMA_NAPI_ENUM
};

inline const char * ErrorCodeName(ErrorCode code) {
    switch (code) {
#define LLAMA_NAPI_NAME(id, text) \
    case ErrorCode::id: return text;
        LLAMA_NAPI_ERROR_CODES(LLAMA_NAPI_NAME)
#undef LLAMA_NAPI_NAME
    }
    return "NATIVE_ERROR";
}

/** An error raised on any thread, carried to the main thread as plain data. */
struct NativeFailure {
    ErrorCode code = ErrorCode::NativeError;
    std::string message;
};

}  // namespace llama_napi
