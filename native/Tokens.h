// Helpers shared by workers: reading token arrays from JS, and UTF-8 boundaries of byte streams.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "llama.h"

namespace llama_napi {

struct ModelState;

/** Copies an Int32Array or an array of integers into token ids, each checked against the
 *  model's vocabulary. Throws INVALID_ARGUMENT naming `what`. Main thread. */
std::vector<llama_token> ReadTokens(Napi::Env env, Napi::Value value, const ModelState & model, const char * what);

/** A new Int32Array holding `tokens`. Main thread. */
Napi::Int32Array MakeTokenArray(Napi::Env env, const std::vector<llama_token> & tokens);

/** Length of the longest prefix of `bytes` that does not end inside a UTF-8 character
 *  (an invalid byte counts as complete, so nothing is held back forever). */
size_t CompleteUtf8Prefix(const std::string & bytes);

/** Reads an optional integer option; throws INVALID_ARGUMENT when present but not an integer
 *  in [min, max]. Main thread. */
int64_t ReadInteger(Napi::Env env, Napi::Object options, const char * key, int64_t fallback, int64_t min, int64_t max);
/** Reads an optional number option (finite, within [min, max]). */
double ReadNumber(Napi::Env env, Napi::Object options, const char * key, double fallback, double min, double max);
/** Reads an optional boolean option. */
bool ReadBool(Napi::Env env, Napi::Object options, const char * key, bool fallback);
/** Reads an optional array of strings (empty when absent); throws INVALID_ARGUMENT. */
std::vector<std::string> ReadStrings(Napi::Env env, Napi::Object options, const char * key);
/** Returns value as an object, or an empty object for undefined; throws for anything else. */
Napi::Object OptionsObject(Napi::Env env, Napi::Value value, const char * what);

}  // namespace llama_napi
