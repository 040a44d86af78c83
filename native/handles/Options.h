// Reading the addon's structured options from JavaScript: context parameters, sampling parameters
// and grammars (numeric ranges from core/OptionLimits.h). Throws INVALID_ARGUMENT (or
// INVALID_GRAMMAR). Contract: main thread only.
#pragma once

#include <napi.h>

#include <string>

#include "core/SamplingParams.h"
#include "llama.h"

namespace llama_napi {

struct ModelState;

/** Context params (contextSize, batchSize, ubatchSize, threads, threadsBatch, sequences,
 *  flashAttention, embeddings, pooling). */
llama_context_params ReadContextParams(Napi::Env env, Napi::Object options);

/** Sampling params (camelCase keys: temperature, topK, …, logitBias, grammar, grammarRoot). */
SamplingParams ReadSamplingParams(Napi::Env env, Napi::Object options, const ModelState & model);

/** An optional GBNF text, checked by CheckGrammarText (empty when undefined). */
std::string ReadGrammar(Napi::Env env, Napi::Value value);

}  // namespace llama_napi
