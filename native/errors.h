// The one list of error codes shared by the addon and lib/errors.ts, and helpers to raise them.
// Contract: every error that crosses into JavaScript is an Error with a string `code` from this list.
#pragma once

#include <napi.h>

#include <string>

// X-macro: (identifier, "CODE"). lib/errors.ts lists the same codes (a unit test checks).
#define LLAMA_NAPI_ERROR_CODES(X)                  \
    X(InvalidArgument, "INVALID_ARGUMENT")         \
    X(InvalidOption, "INVALID_OPTION")             \
    X(ModelNotFound, "MODEL_NOT_FOUND")            \
    X(InvalidModelFile, "INVALID_MODEL_FILE")      \
    X(ModelLoadFailed, "MODEL_LOAD_FAILED")        \
    X(ContextCreateFailed, "CONTEXT_CREATE_FAILED") \
    X(ContextOverflow, "CONTEXT_OVERFLOW")         \
    X(TokenizeFailed, "TOKENIZE_FAILED")           \
    X(DecodeFailed, "DECODE_FAILED")               \
    X(SamplerFailed, "SAMPLER_FAILED")             \
    X(InvalidGrammar, "INVALID_GRAMMAR")           \
    X(InvalidJsonSchema, "INVALID_JSON_SCHEMA")    \
    X(InvalidJsonOutput, "INVALID_JSON_OUTPUT")    \
    X(ModelNotConfigured, "MODEL_NOT_CONFIGURED")  \
    X(InvalidInput, "INVALID_INPUT")               \
    X(InvalidOutput, "INVALID_OUTPUT")             \
    X(VocabOnly, "VOCAB_ONLY")                     \
    X(Busy, "BUSY")                                \
    X(Disposed, "DISPOSED")                        \
    X(Aborted, "ABORTED")                          \
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
    case ErrorCode::id:           \
        return text;
        LLAMA_NAPI_ERROR_CODES(LLAMA_NAPI_NAME)
#undef LLAMA_NAPI_NAME
    }
    return "NATIVE_ERROR";
}

/** A JS Error with `code` set. Main thread only. */
inline Napi::Error MakeError(Napi::Env env, ErrorCode code, const std::string & message) {
    Napi::Error error = Napi::Error::New(env, message);
    error.Set("code", Napi::String::New(env, ErrorCodeName(code)));
    return error;
}

/** Throws a coded error as a C++ exception (node-addon-api turns it into a JS throw). */
[[noreturn]] inline void Throw(Napi::Env env, ErrorCode code, const std::string & message) {
    throw MakeError(env, code, message);
}

/** A promise already rejected with a coded error: promise-returning methods never throw. */
inline Napi::Promise RejectedPromise(Napi::Env env, ErrorCode code, const std::string & message) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(MakeError(env, code, message).Value());
    return deferred.Promise();
}

/** An error raised on a worker thread, carried to the main thread as plain data. */
struct NativeFailure {
    ErrorCode code = ErrorCode::NativeError;
    std::string message;
};

}  // namespace llama_napi
