// Token-array, UTF-8 and option-reading helpers (see Tokens.h).
#include "Tokens.h"

#include <cmath>
#include <string>

#include "Model.h"
#include "errors.h"

namespace llama_napi {

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
            Napi::Value item = array.Get(i);
            double number = item.IsNumber() ? item.As<Napi::Number>().DoubleValue() : NAN;
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

Napi::Int32Array MakeTokenArray(Napi::Env env, const std::vector<llama_token> & tokens) {
    Napi::Int32Array array = Napi::Int32Array::New(env, tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
        array[i] = tokens[i];
    }
    return array;
}

size_t CompleteUtf8Prefix(const std::string & bytes) {
    const size_t size = bytes.size();
    // Look back at most 3 bytes for the lead byte of a character that is still incomplete.
    for (size_t back = 1; back <= 4 && back <= size; ++back) {
        const unsigned char c = static_cast<unsigned char>(bytes[size - back]);
        if ((c & 0xC0) == 0x80) {
            continue;  // continuation byte: keep looking for the lead
        }
        size_t need = 1;
        if ((c & 0xE0) == 0xC0) need = 2;
        else if ((c & 0xF0) == 0xE0) need = 3;
        else if ((c & 0xF8) == 0xF0) need = 4;
        return back < need ? size - back : size;
    }
    return size;
}

namespace {

Napi::Value OptionValue(Napi::Object options, const char * key) { return options.Get(key); }

}  // namespace

int64_t ReadInteger(Napi::Env env, Napi::Object options, const char * key, int64_t fallback, int64_t min, int64_t max) {
    Napi::Value value = OptionValue(options, key);
    if (value.IsUndefined()) {
        return fallback;
    }
    double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(number) || std::floor(number) != number || number < static_cast<double>(min) ||
        number > static_cast<double>(max)) {
        Throw(env, ErrorCode::InvalidArgument,
              std::string(key) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    return static_cast<int64_t>(number);
}

double ReadNumber(Napi::Env env, Napi::Object options, const char * key, double fallback, double min, double max) {
    Napi::Value value = OptionValue(options, key);
    if (value.IsUndefined()) {
        return fallback;
    }
    double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(number) || number < min || number > max) {
        Throw(env, ErrorCode::InvalidArgument,
              std::string(key) + " must be a number from " + std::to_string(min) + " to " + std::to_string(max));
    }
    return number;
}

bool ReadBool(Napi::Env env, Napi::Object options, const char * key, bool fallback) {
    Napi::Value value = OptionValue(options, key);
    if (value.IsUndefined()) {
        return fallback;
    }
    if (!value.IsBoolean()) {
        Throw(env, ErrorCode::InvalidArgument, std::string(key) + " must be a boolean");
    }
    return value.As<Napi::Boolean>().Value();
}

std::vector<std::string> ReadStrings(Napi::Env env, Napi::Object options, const char * key) {
    std::vector<std::string> strings;
    Napi::Value value = OptionValue(options, key);
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

Napi::Object OptionsObject(Napi::Env env, Napi::Value value, const char * what) {
    if (value.IsUndefined() || value.IsNull()) {
        return Napi::Object::New(env);
    }
    if (!value.IsObject() || value.IsArray()) {
        Throw(env, ErrorCode::InvalidArgument, std::string(what) + " must be an object");
    }
    return value.As<Napi::Object>();
}

}  // namespace llama_napi
