// The parameters a sampler chain is built from (core/Sampling.h), shared by the Sampler handle and
// by generation requests. Defaults are llama.cpp's. Thread-agnostic plain data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llama.h"

namespace llama_napi {

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
    uint32_t seed = LLAMA_DEFAULT_SEED;
    std::vector<llama_logit_bias> logit_bias;
    /** GBNF; empty: unconstrained. */
    std::string grammar;
    std::string grammar_root = "root";

    /** Whether the repetition penalties change anything. */
    bool HasPenalties() const {
        return penalty_last_n != 0 && (repeat_penalty != 1.0f || frequency_penalty != 0.0f || presence_penalty != 0.0f);
    }
    /** Greedy with no state to carry (no penalties): the argmax of the biased logits decides. */
    bool PureGreedy() const { return temperature <= 0.0f && !HasPenalties(); }
};

}  // namespace llama_napi
