// Token probabilities (see Logprobs.h).
#include "core/Logprobs.h"

#include <algorithm>
#include <cmath>

#include "core/TokenText.h"

namespace llama_napi {

namespace {

TokenProbability Entry(llama_token token, float logit, float log_sum, const llama_vocab * vocab, bool special) {
    TokenProbability entry;
    entry.token = token;
    entry.logprob = std::isfinite(logit) ? logit - log_sum : -INFINITY;
    AppendPiece(vocab, token, special, entry.text);
    return entry;
}

}  // namespace

TokenLogprobs ComputeLogprobs(const float * logits, int32_t n_vocab, llama_token chosen, int32_t n,
                              const llama_vocab * vocab, bool special) {
    // log(sum(exp(logit))), shifted by the largest logit so that no term overflows; NaN logits
    // count as impossible.
    float max_logit = -INFINITY;
    for (int32_t token = 0; token < n_vocab; ++token) {
        if (logits[token] > max_logit) max_logit = logits[token];
    }
    double sum = 0.0;
    if (std::isfinite(max_logit)) {
        for (int32_t token = 0; token < n_vocab; ++token) {
            if (logits[token] > -INFINITY) sum += std::exp(static_cast<double>(logits[token] - max_logit));
        }
    }
    const float log_sum = sum > 0.0 ? max_logit + static_cast<float>(std::log(sum)) : INFINITY;

    // The n best in one pass: a short list kept sorted, most likely first.
    auto better = [&](llama_token a, llama_token b) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    };
    std::vector<llama_token> best;
    best.reserve(static_cast<size_t>(n) + 1);
    for (int32_t token = 0; n > 0 && token < n_vocab; ++token) {
        if (std::isnan(logits[token])) continue;
        if (best.size() == static_cast<size_t>(n) && !better(token, best.back())) continue;
        best.insert(std::upper_bound(best.begin(), best.end(), token, better), token);
        if (best.size() > static_cast<size_t>(n)) best.pop_back();
    }

    TokenLogprobs result;
    result.chosen = Entry(chosen, logits[chosen], log_sum, vocab, special);
    result.top.reserve(best.size());
    for (llama_token token : best) {
        result.top.push_back(Entry(token, logits[token], log_sum, vocab, special));
    }
    return result;
}

}  // namespace llama_napi
