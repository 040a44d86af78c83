// Reading JavaScript arguments: options by key (numbers against their ranges), strings, token
// arrays, and token arrays back to JavaScript. Every reader throws INVALID_ARGUMENT naming what is
// wrong. Contract: main thread only.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/OptionLimits.h"
#include "llama.h"
#include "runtime/Backends.h"

namespace llama_napi {

struct ModelState;

/** Returns value as an object, or an empty object for undefined/null; throws for anything else. */
Napi::Object OptionsObject(Napi::Env env, Napi::Value value, const char * what);

/** An optional integer option within its range (core/OptionLimits.h), or `fallback` if absent. */
int64_t ReadInteger(Napi::Env env, Napi::Object options, const OptionLimit & limit, int64_t fallback);
/** An optional integer option within [min, max], for ranges known only at run time. */
int64_t ReadInteger(Napi::Env env, Napi::Object options, const char * key, int64_t fallback, int64_t min, int64_t max);
/** An optional finite number option within its range, or `fallback` if absent. */
double ReadNumber(Napi::Env env, Napi::Object options, const OptionLimit & limit, double fallback);
/** An optional boolean option. */
bool ReadBool(Napi::Env env, Napi::Object options, const char * key, bool fallback);
/** An optional string option (`fallback` if absent). */
std::string ReadString(Napi::Env env, Napi::Object options, const char * key, const std::string & fallback);
/** An optional array of strings (empty when absent). */
std::vector<std::string> ReadStrings(Napi::Env env, Napi::Object options, const char * key);
/** A required string argument. */
std::string StringArgument(Napi::Env env, Napi::Value value, const char * what);
/** An optional callback argument: an empty function for undefined/null. */
Napi::Function OptionalFunction(Napi::Env env, Napi::Value value, const char * what);

/** Copies an Int32Array or an array of integers into token ids, each checked against the model's
 *  vocabulary. */
std::vector<llama_token> ReadTokens(Napi::Env env, Napi::Value value, const ModelState & model, const char * what);
/** One token id of the model. */
llama_token ReadToken(Napi::Env env, Napi::Value value, const ModelState & model, const char * what);

/** Devices as the addon's devices() gives them: { name, description, type, backend, memoryTotal,
 *  memoryFree, library }. */
Napi::Array MakeDeviceList(Napi::Env env, const std::vector<DeviceInfo> & devices);

/** A new Int32Array holding `tokens`. */
Napi::Int32Array MakeTokenArray(Napi::Env env, const std::vector<llama_token> & tokens);

}  // namespace llama_napi
