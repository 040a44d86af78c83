// Reading the addon's structured options: context parameters, sampling parameters, grammars.
#include "handles/Options.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <thread>

#include "core/ModelState.h"
#include "core/Sampling.h"
#include "js/Arguments.h"
#include "js/Errors.h"

namespace llama_napi {

llama_context_params ReadContextParams(Napi::Env env, Napi::Object options) {
    llama_context_params params = llama_context_default_params();
    const int64_t hardware = std::max(1u, std::thread::hardware_concurrency());
    params.n_ctx = static_cast<uint32_t>(ReadInteger(env, options, limits::kContextSize, 4096));
    params.n_batch =
        static_cast<uint32_t>(ReadInteger(env, options, limits::kBatchSize, std::min<int64_t>(512, params.n_ctx)));
    // Ranges that depend on other values: a micro-batch within the batch, and no more sequences
    // than this llama.cpp supports.
    const auto max_ubatch = std::min<int64_t>(params.n_batch, static_cast<int64_t>(limits::kUbatchSize.max));
    params.n_ubatch = static_cast<uint32_t>(
        ReadInteger(env, options, limits::kUbatchSize.name, std::min<uint32_t>(params.n_batch, 512), 1, max_ubatch));
    params.n_threads = static_cast<int32_t>(ReadInteger(env, options, limits::kThreads, hardware));
    params.n_threads_batch = static_cast<int32_t>(ReadInteger(env, options, limits::kThreadsBatch, params.n_threads));
    const auto max_sequences = std::min<int64_t>(static_cast<int64_t>(limits::kSequences.max),
                                                 static_cast<int64_t>(llama_max_parallel_sequences()));
    params.n_seq_max = static_cast<uint32_t>(ReadInteger(env, options, limits::kSequences.name, 1, 1, max_sequences));
    // llama.cpp reserves its graphs for a micro-batch shared equally by the sequences, rounding a
    // size that does not divide up past the micro-batch; some architectures' graphs (Kimi Linear)
    // then assert on mismatched shapes. A multiple of the sequences avoids it.
    if (params.n_seq_max > 1 && params.n_ubatch > params.n_seq_max) {
        params.n_ubatch -= params.n_ubatch % params.n_seq_max;
    }
    params.embeddings = ReadBool(env, options, "embeddings", false);
    Napi::Value pooling = options.Get("pooling");
    if (!pooling.IsUndefined()) {
        const std::string name = pooling.IsString() ? pooling.As<Napi::String>().Utf8Value() : std::string();
        if (name == "model") params.pooling_type = LLAMA_POOLING_TYPE_UNSPECIFIED;
        else if (name == "none") params.pooling_type = LLAMA_POOLING_TYPE_NONE;
        else if (name == "mean") params.pooling_type = LLAMA_POOLING_TYPE_MEAN;
        else if (name == "cls") params.pooling_type = LLAMA_POOLING_TYPE_CLS;
        else if (name == "last") params.pooling_type = LLAMA_POOLING_TYPE_LAST;
        else Throw(env, ErrorCode::InvalidArgument, "pooling must be 'model', 'none', 'mean', 'cls' or 'last'");
    }
    // llama.cpp's own counters (perf()): a clock read around each decode, nothing more.
    params.no_perf = false;
    Napi::Value flash = options.Get("flashAttention");
    if (!flash.IsUndefined()) {
        std::string mode = flash.IsString() ? flash.As<Napi::String>().Utf8Value() : std::string();
        if (flash.IsBoolean()) {
            params.flash_attn_type =
                flash.As<Napi::Boolean>().Value() ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
        } else if (mode == "auto") {
            params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_AUTO;
        } else {
            Throw(env, ErrorCode::InvalidArgument, "flashAttention must be true, false or 'auto'");
        }
    }
    return params;
}

std::string ReadGrammar(Napi::Env env, Napi::Value value) {
    if (value.IsUndefined()) {
        return std::string();
    }
    if (!value.IsString()) {
        Throw(env, ErrorCode::InvalidArgument, "grammar must be a string (GBNF)");
    }
    std::string grammar = value.As<Napi::String>().Utf8Value();
    const std::string problem = CheckGrammarText(grammar);
    if (!problem.empty()) {
        Throw(env, ErrorCode::InvalidGrammar, problem);
    }
    return grammar;
}

SamplingParams ReadSamplingParams(Napi::Env env, Napi::Object options, const ModelState & model) {
    SamplingParams params;
    params.temperature = static_cast<float>(ReadNumber(env, options, limits::kTemperature, params.temperature));
    params.top_k = static_cast<int32_t>(ReadInteger(env, options, limits::kTopK, params.top_k));
    params.top_p = static_cast<float>(ReadNumber(env, options, limits::kTopP, params.top_p));
    params.min_p = static_cast<float>(ReadNumber(env, options, limits::kMinP, params.min_p));
    params.typical_p = static_cast<float>(ReadNumber(env, options, limits::kTypicalP, params.typical_p));
    params.penalty_last_n =
        static_cast<int32_t>(ReadInteger(env, options, limits::kPenaltyLastN, params.penalty_last_n));
    params.repeat_penalty = static_cast<float>(ReadNumber(env, options, limits::kRepeatPenalty, params.repeat_penalty));
    params.frequency_penalty =
        static_cast<float>(ReadNumber(env, options, limits::kFrequencyPenalty, params.frequency_penalty));
    params.presence_penalty =
        static_cast<float>(ReadNumber(env, options, limits::kPresencePenalty, params.presence_penalty));
    params.seed = static_cast<uint32_t>(ReadInteger(env, options, limits::kSeed, params.seed));
    params.top_n_sigma = static_cast<float>(ReadNumber(env, options, limits::kTopNSigma, params.top_n_sigma));
    params.dry_multiplier = static_cast<float>(ReadNumber(env, options, limits::kDryMultiplier, params.dry_multiplier));
    params.dry_base = static_cast<float>(ReadNumber(env, options, limits::kDryBase, params.dry_base));
    params.dry_allowed_length =
        static_cast<int32_t>(ReadInteger(env, options, limits::kDryAllowedLength, params.dry_allowed_length));
    params.dry_penalty_last_n =
        static_cast<int32_t>(ReadInteger(env, options, limits::kDryPenaltyLastN, params.dry_penalty_last_n));
    if (!options.Get("drySequenceBreakers").IsUndefined()) {
        params.dry_sequence_breakers = ReadStrings(env, options, "drySequenceBreakers");
    }
    params.xtc_probability =
        static_cast<float>(ReadNumber(env, options, limits::kXtcProbability, params.xtc_probability));
    params.xtc_threshold = static_cast<float>(ReadNumber(env, options, limits::kXtcThreshold, params.xtc_threshold));
    params.mirostat = static_cast<int32_t>(ReadInteger(env, options, "mirostat", params.mirostat, 0, 2));
    params.mirostat_tau = static_cast<float>(ReadNumber(env, options, limits::kMirostatTau, params.mirostat_tau));
    params.mirostat_eta = static_cast<float>(ReadNumber(env, options, limits::kMirostatEta, params.mirostat_eta));
    if (!options.Get("samplers").IsUndefined()) {
        params.order.clear();
        for (const std::string & name : ReadStrings(env, options, "samplers")) {
            SamplerKind kind;
            if (!SamplerKindFromName(name, kind)) {
                Throw(env, ErrorCode::InvalidArgument,
                      "samplers: unknown sampler \"" + name + "\" (known: " + SamplerKindNames() + ")");
            }
            params.order.push_back(kind);
        }
    }
    params.grammar = ReadGrammar(env, options.Get("grammar"));
    Napi::Value root = options.Get("grammarRoot");
    if (!root.IsUndefined()) {
        if (!root.IsString() || root.As<Napi::String>().Utf8Value().empty()) {
            Throw(env, ErrorCode::InvalidArgument, "grammarRoot must be a non-empty string");
        }
        params.grammar_root = root.As<Napi::String>().Utf8Value();
    }
    params.grammar_lazy = ReadBool(env, options, "grammarLazy", false);
    if (!options.Get("grammarTriggerPatterns").IsUndefined()) {
        params.grammar_trigger_patterns = ReadStrings(env, options, "grammarTriggerPatterns");
    }
    if (!options.Get("grammarTriggerTokens").IsUndefined()) {
        params.grammar_trigger_tokens =
            ReadTokens(env, options.Get("grammarTriggerTokens"), model, "grammarTriggerTokens");
    }
    if (!options.Get("grammarPrefill").IsUndefined()) {
        params.grammar_prefill = ReadTokens(env, options.Get("grammarPrefill"), model, "grammarPrefill");
    }
    if (params.grammar.empty() && (params.grammar_lazy || !params.grammar_prefill.empty())) {
        Throw(env, ErrorCode::InvalidArgument, "grammarLazy and grammarPrefill need a grammar");
    }
    if (params.grammar_lazy && params.grammar_trigger_patterns.empty() && params.grammar_trigger_tokens.empty()) {
        Throw(env, ErrorCode::InvalidArgument, "a lazy grammar needs grammarTriggerPatterns or grammarTriggerTokens");
    }

    params.reasoning_budget =
        static_cast<int32_t>(ReadInteger(env, options, "reasoningBudget", params.reasoning_budget, -1, INT32_MAX));
    if (!options.Get("reasoningStart").IsUndefined()) {
        params.reasoning_start = ReadTokens(env, options.Get("reasoningStart"), model, "reasoningStart");
    }
    Napi::Value ends = options.Get("reasoningEnd");
    if (!ends.IsUndefined()) {
        if (!ends.IsArray()) {
            Throw(env, ErrorCode::InvalidArgument, "reasoningEnd must be an array of token arrays");
        }
        for (uint32_t i = 0; i < ends.As<Napi::Array>().Length(); ++i) {
            params.reasoning_end.push_back(ReadTokens(env, ends.As<Napi::Array>().Get(i), model, "reasoningEnd"));
        }
    }
    if (!options.Get("reasoningForced").IsUndefined()) {
        params.reasoning_forced = ReadTokens(env, options.Get("reasoningForced"), model, "reasoningForced");
    } else if (!params.reasoning_end.empty()) {
        params.reasoning_forced = params.reasoning_end.front();
    }
    if (!options.Get("reasoningPrefill").IsUndefined()) {
        params.reasoning_prefill = ReadTokens(env, options.Get("reasoningPrefill"), model, "reasoningPrefill");
    }
    if (params.reasoning_budget >= 0 &&
        (params.reasoning_start.empty() || params.reasoning_end.empty() || params.reasoning_end.front().empty())) {
        Throw(env, ErrorCode::InvalidArgument, "reasoningBudget needs reasoningStart and reasoningEnd tokens");
    }

    Napi::Value bias = options.Get("logitBias");
    if (!bias.IsUndefined()) {
        if (!bias.IsArray()) {
            Throw(env, ErrorCode::InvalidArgument, "logitBias must be an array of [token, bias] pairs");
        }
        Napi::Array pairs = bias.As<Napi::Array>();
        for (uint32_t i = 0; i < pairs.Length(); ++i) {
            Napi::Value pair = pairs.Get(i);
            bool ok = pair.IsArray() && pair.As<Napi::Array>().Length() == 2;
            double token = ok && pair.As<Napi::Array>().Get(0u).IsNumber()
                               ? pair.As<Napi::Array>().Get(0u).As<Napi::Number>().DoubleValue()
                               : NAN;
            double value = ok && pair.As<Napi::Array>().Get(1u).IsNumber()
                               ? pair.As<Napi::Array>().Get(1u).As<Napi::Number>().DoubleValue()
                               : NAN;
            if (!ok || std::floor(token) != token || !model.ValidToken(static_cast<int64_t>(token)) ||
                std::isnan(value) || value == INFINITY) {
                Throw(env, ErrorCode::InvalidArgument,
                      "logitBias[" + std::to_string(i) +
                          "] must be [token id of this model, bias (a number, or -Infinity)]");
            }
            params.logit_bias.push_back({ static_cast<llama_token>(token), static_cast<float>(value) });
        }
    }
    return params;
}

}  // namespace llama_napi
