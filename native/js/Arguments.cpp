// Argument readers (see Arguments.h).
#include "js/Arguments.h"

#include <cmath>
#include <cstdio>
#include <string>

#include "core/ModelState.h"
#include "js/Errors.h"

namespace llama_napi {

namespace {

/** A number as a person writes it: 1e+06 → 1000000, 1e-06 → 0.000001. */
std::string FormatNumber(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.10g", value);
    return buffer;
}

double NumberOrNaN(Napi::Value value) { return value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN; }

}  // namespace

Napi::Object OptionsObject(Napi::Env env, Napi::Value value, const char * what) {
    if (value.IsUndefined() || value.IsNull()) {
        return Napi::Object::New(env);
    }
    if (!value.IsObject() || value.IsArray()) {
        Throw(env, ErrorCode::InvalidArgument, std::string(what) + " must be an object");
    }
    return value.As<Napi::Object>();
}

int64_t ReadInteger(Napi::Env env, Napi::Object options, const char * key, int64_t fallback, int64_t min, int64_t max) {
    Napi::Value value = options.Get(key);
    if (value.IsUndefined()) {
        return fallback;
    }
    const double number = NumberOrNaN(value);
    if (!std::isfinite(number) || std::floor(number) != number || number < static_cast<double>(min) ||
        number > static_cast<double>(max)) {
        Throw(env, ErrorCode::InvalidArgument,
              std::string(key) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    return static_cast<int64_t>(number);
}

int64_t ReadInteger(Napi::Env env, Napi::Object options, const OptionLimit & limit, int64_t fallback) {
    return ReadInteger(env, options, limit.name, fallback, static_cast<int64_t>(limit.min),
                       static_cast<int64_t>(limit.max));
}

double ReadNumber(Napi::Env env, Napi::Object options, const OptionLimit & limit, double fallback) {
    Napi::Value value = options.Get(limit.name);
    if (value.IsUndefined()) {
        return fallback;
    }
    const double number = NumberOrNaN(value);
    if (!std::isfinite(number) || number < limit.min || number > limit.max) {
        Throw(env, ErrorCode::InvalidArgument,
              std::string(limit.name) + " must be a number from " + FormatNumber(limit.min) + " to " +
                  FormatNumber(limit.max));
    }
    return number;
}

bool ReadBool(Napi::Env env, Napi::Object options, const char * key, bool fallback) {
    Napi::Value value = options.Get(key);
    if (value.IsUndefined()) {
        return fallback;
    }
    if (!value.IsBoolean()) {
        Throw(env, ErrorCode::InvalidArgument, std::string(key) + " must be a boolean");
    }
    return value.As<Napi::Boolean>().Value();
}

std::string ReadString(Napi::Env env, Napi::Object options, const char * key, const std::string & fallback) {
    Napi::Value value = options.Get(key);
    if (value.IsUndefined()) {
        return fallback;
    }
    if (!value.IsString()) {
        Throw(env, ErrorCode::InvalidArgument, std::string(key) + " must be a string");
    }
    return value.As<Napi::String>().Utf8Value();
}

std::vector<std::string> ReadStrings(Napi::Env env, Napi::Object options, const char * key) {
    std::vector<std::string> strings;
    Napi::Value value = options.Get(key);
    if (value.IsUndefined()) {
        return strings;
    }
    if (!value.IsArray()) {
        Throw(env, ErrorCode::InvalidArgument, std::string(key) + " must be an array of strings");
    }
    Napi::Array array = value.As<Napi::Array>();
    for (uint32_t i = 0; i < array.Length(); ++i) {
        Napi::Value item = array.Get(i);
        if (!item.IsString()) {
            Throw(env, ErrorCode::InvalidArgument, std::string(key) + "[" + std::to_string(i) + "] must be a string");
        }
        strings.push_back(item.As<Napi::String>().Utf8Value());
    }
    return strings;
}

std::string StringArgument(Napi::Env env, Napi::Value value, const char * what) {
    if (!value.IsString()) {
        Throw(env, ErrorCode::InvalidArgument, std::string(what) + " must be a string");
    }
    return value.As<Napi::String>().Utf8Value();
}

Napi::Function OptionalFunction(Napi::Env env, Napi::Value value, const char * what) {
    if (value.IsUndefined() || value.IsNull()) {
        return Napi::Function();
    }
    if (!value.IsFunction()) {
        Throw(env, ErrorCode::InvalidArgument, std::string(what) + " must be a function");
    }
    return value.As<Napi::Function>();
}

std::vector<llama_token> ReadTokens(Napi::Env env, Napi::Value value, const ModelState & model, const char * what) {
    std::vector<llama_token> tokens;
    auto check = [&](int64_t token, size_t index) {
        if (!model.ValidToken(token)) {
            Throw(env, ErrorCode::InvalidArgument,
                  std::string(what) + "[" + std::to_string(index) + "] = " + std::to_string(token) +
                      " is not a token id of this model (0 to " + std::to_string(model.n_vocab - 1) + ")");
        }
        tokens.push_back(static_cast<llama_token>(token));
    };
    if (value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
        Napi::Int32Array array = value.As<Napi::Int32Array>();
        tokens.reserve(array.ElementLength());
        for (size_t i = 0; i < array.ElementLength(); ++i) {
            check(array[i], i);
        }
        return tokens;
    }
    if (value.IsArray()) {
        Napi::Array array = value.As<Napi::Array>();
        const uint32_t length = array.Length();
        tokens.reserve(length);
        for (uint32_t i = 0; i < length; ++i) {
            const double number = NumberOrNaN(array.Get(i));
            if (!std::isfinite(number) || std::floor(number) != number) {
                Throw(env, ErrorCode::InvalidArgument,
                      std::string(what) + "[" + std::to_string(i) + "] is not an integer token id");
            }
            check(static_cast<int64_t>(std::fmax(std::fmin(number, 1e15), -1e15)), i);
        }
        return tokens;
    }
    Throw(env, ErrorCode::InvalidArgument, std::string(what) + " must be an Int32Array or an array of token ids");
}

llama_token ReadToken(Napi::Env env, Napi::Value value, const ModelState & model, const char * what) {
    const double number = NumberOrNaN(value);
    if (!std::isfinite(number) || std::floor(number) != number || number < 0 || number >= model.n_vocab) {
        Throw(env, ErrorCode::InvalidArgument, std::string(what) + " must be a token id of this model");
    }
    return static_cast<llama_token>(number);
}

Napi::Array MakeDeviceList(Napi::Env env, const std::vector<DeviceInfo> & devices) {
    Napi::Array list = Napi::Array::New(env, devices.size());
    for (size_t i = 0; i < devices.size(); ++i) {
        const DeviceInfo & device = devices[i];
        Napi::Object entry = Napi::Object::New(env);
        entry.Set("name", device.name);
        entry.Set("description", device.description);
        entry.Set("type", device.type);
        entry.Set("backend", device.backend);
        entry.Set("memoryTotal", static_cast<double>(device.memory_total));
        entry.Set("memoryFree", static_cast<double>(device.memory_free));
        entry.Set("library", device.library);
        list.Set(static_cast<uint32_t>(i), entry);
    }
    return list;
}

Napi::Int32Array MakeTokenArray(Napi::Env env, const std::vector<llama_token> & tokens) {
    Napi::Int32Array array = Napi::Int32Array::New(env, tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
        array[i] = tokens[i];
    }
    return array;
}

}  // namespace llama_napi
