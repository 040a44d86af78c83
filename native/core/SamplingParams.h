// The parameters a sampler chain is built from (core/Sampling.h), shared by the Sampler handle and
// by generation requests. Defaults are llama.cpp's. Thread-agnostic plain data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llama.h"

namespace llama_napi {

/** The samplers whose order `SamplingParams::order` sets, as llama-completion's --samplers. */
enum class SamplerKind { Penalties, Dry, TopNSigma, TopK, TypicalP, TopP, MinP, Xtc, Temperature };

/** The JavaScript names of the samplers, in SamplerKind's order. */
inline constexpr const char * kSamplerKindNames[] = { "penalties", "dry",  "topNSigma", "topK",       "typicalP",
                                                      "topP",      "minP", "xtc",       "temperature" };

inline bool SamplerKindFromName(const std::string & name, SamplerKind & kind) {
    for (size_t i = 0; i < sizeof(kSamplerKindNames) / sizeof(kSamplerKindNames[0]); ++i) {
        if (name == kSamplerKindNames[i]) {
            kind = static_cast<SamplerKind>(i);
            return true;
        }
    }
    return false;
}

inline std::string SamplerKindNames() {
    std::string names;
    for (const char * name : kSamplerKindNames) {
        names += names.empty() ? name : std::string(", ") + name;
    }
    return names;
}

struct SamplingParams {
    float temperature = 0.8f;  // <= 0: greedy
    int32_t top_k = 40;        // <= 0: off
    float top_p = 0.95f;       // 1: off
    float min_p = 0.05f;       // 0: off
    float typical_p = 1.0f;    // 1: off
    int32_t penalty_last_n = 64;
    float repeat_penalty = 1.0f;  // 1: off
    float frequency_penalty = 0.0f;
    float presence_penalty = 0.0f;
    float top_n_sigma = -1.0f;  // <= 0: off
    // DRY ("don't repeat yourself"): multiplier 0 is off.
    float dry_multiplier = 0.0f;
    float dry_base = 1.75f;
    int32_t dry_allowed_length = 2;
    int32_t dry_penalty_last_n = 64;  // 0: off
    std::vector<std::string> dry_sequence_breakers = { "\n", ":", "\"", "*" };
    // XTC ("exclude top choices"): probability 0 is off.
    float xtc_probability = 0.0f;
    float xtc_threshold = 0.1f;
    // Mirostat: 0 off, 1 or 2 its version (replaces the samplers of `order`).
    int32_t mirostat = 0;
    float mirostat_tau = 5.0f;
    float mirostat_eta = 0.1f;
    /** The sampler order; llama.cpp's default. */
    std::vector<SamplerKind> order = { SamplerKind::Penalties, SamplerKind::Dry,      SamplerKind::TopNSigma,
                                       SamplerKind::TopK,      SamplerKind::TypicalP, SamplerKind::TopP,
                                       SamplerKind::MinP,      SamplerKind::Xtc,      SamplerKind::Temperature };
    uint32_t seed = LLAMA_DEFAULT_SEED;
    std::vector<llama_logit_bias> logit_bias;
    /** GBNF; empty: unconstrained. */
    std::string grammar;
    std::string grammar_root = "root";
    /** A lazy grammar constrains nothing until a trigger: a token of `grammar_trigger_tokens`, or
     *  text matching one of `grammar_trigger_patterns` (regular expressions; llama.cpp's lazy
     *  grammar sampler). */
    bool grammar_lazy = false;
    std::vector<std::string> grammar_trigger_patterns;
    std::vector<llama_token> grammar_trigger_tokens;
    /** Tokens the grammar accepts before the first generated one (text the prompt already holds,
     *  such as a chat template's opening of the answer). */
    std::vector<llama_token> grammar_prefill;
    /** A reasoning model's thought (llama.cpp's reasoning budget sampler, as llama-server drives
     *  it): it opens with `reasoning_start` and closes with any of `reasoning_end`. With a budget
     *  (>= 0), once the thought has that many tokens the sampler forces `reasoning_forced` (the
     *  first closing tag); a lazy grammar waits while the model thinks. `reasoning_prefill`: what
     *  the prompt already wrote of the answer (a thought the template opens). */
    int32_t reasoning_budget = -1;  // -1: none
    std::vector<llama_token> reasoning_start;
    std::vector<std::vector<llama_token>> reasoning_end;
    std::vector<llama_token> reasoning_forced;
    std::vector<llama_token> reasoning_prefill;

    /** Whether a generation needs the reasoning budget sampler (llama.cpp's common_sampler_init
     *  makes one on the same terms). */
    bool TracksReasoning() const {
        return !reasoning_start.empty() && !reasoning_end.empty() && (grammar_lazy || reasoning_budget >= 0);
    }

    /** Whether the repetition penalties change anything. */
    bool HasPenalties() const {
        return penalty_last_n != 0 && (repeat_penalty != 1.0f || frequency_penalty != 0.0f || presence_penalty != 0.0f);
    }
    bool Orders(SamplerKind kind) const {
        for (SamplerKind entry : order) {
            if (entry == kind) return true;
        }
        return false;
    }
    /** Greedy with nothing that can move the top token (penalties, DRY, XTC): the argmax of the
     *  biased logits decides. */
    bool PureGreedy() const {
        const bool penalties = HasPenalties() && Orders(SamplerKind::Penalties);
        const bool dry = dry_multiplier != 0.0f && dry_base >= 1.0f && Orders(SamplerKind::Dry);
        const bool xtc = xtc_probability > 0.0f && xtc_threshold <= 0.5f && Orders(SamplerKind::Xtc);
        return temperature <= 0.0f && (mirostat != 0 || Orders(SamplerKind::Temperature)) && !penalties && !dry && !xtc;
    }
};

}  // namespace llama_napi
