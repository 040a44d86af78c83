// A memory breakdown (core/MemoryFit.h) as JavaScript sees it:
// { devices: [{ name, description, free, total, model, context, compute }], host: { ... } }, bytes.
// Contract: main thread.
#pragma once

#include <napi.h>

#include "core/MemoryFit.h"

namespace llama_napi {

Napi::Object MakeMemoryBreakdown(Napi::Env env, const MemoryBreakdown & breakdown);

}  // namespace llama_napi
