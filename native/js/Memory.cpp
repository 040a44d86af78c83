// A memory breakdown as JavaScript sees it (see Memory.h).
#include "js/Memory.h"

namespace llama_napi {

namespace {

Napi::Object MakeDeviceMemory(Napi::Env env, const DeviceMemory & memory) {
    Napi::Object result = Napi::Object::New(env);
    result.Set("name", Napi::String::New(env, memory.name));
    result.Set("description", Napi::String::New(env, memory.description));
    result.Set("free", Napi::Number::New(env, static_cast<double>(memory.free)));
    result.Set("total", Napi::Number::New(env, static_cast<double>(memory.total)));
    result.Set("model", Napi::Number::New(env, static_cast<double>(memory.model)));
    result.Set("context", Napi::Number::New(env, static_cast<double>(memory.context)));
    result.Set("compute", Napi::Number::New(env, static_cast<double>(memory.compute)));
    return result;
}

}  // namespace

Napi::Object MakeMemoryBreakdown(Napi::Env env, const MemoryBreakdown & breakdown) {
    Napi::Object result = Napi::Object::New(env);
    Napi::Array devices = Napi::Array::New(env, breakdown.devices.size());
    for (size_t i = 0; i < breakdown.devices.size(); ++i) {
        devices.Set(static_cast<uint32_t>(i), MakeDeviceMemory(env, breakdown.devices[i]));
    }
    result.Set("devices", devices);
    result.Set("host", MakeDeviceMemory(env, breakdown.host));
    return result;
}

}  // namespace llama_napi
