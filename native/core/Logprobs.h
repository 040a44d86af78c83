// Token probabilities: how likely the model found each generated token and its top alternatives,
// from the raw logits (the model's distribution before any sampler transforms it).
// Thread-agnostic plain data and a pure function over one row of logits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llama.h"

namespace llama_napi {

struct TokenProbability {
    llama_token token = LLAMA_TOKEN_NULL;
    float logprob = 0.0f;
    std::string text;  // the token's piece (bytes; may be part of a character)
};

struct TokenLogprobs {
    TokenProbability chosen;
    /** The `n` most likely tokens, most likely first (ties: lower id first). */
    std::vector<TokenProbability> top;
};

/** Log-probabilities of `chosen` and of the `n` most likely tokens under softmax(`logits`). Pieces
 *  render with `special` as the generated text does. */
TokenLogprobs ComputeLogprobs(const float * logits, int32_t n_vocab, llama_token chosen, int32_t n,
                              const llama_vocab * vocab, bool special);

}  // namespace llama_napi
