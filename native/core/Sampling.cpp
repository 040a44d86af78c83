// Sampler chains and token choice (see Sampling.h).
#include "core/Sampling.h"

#include <cmath>
#include <string>

#include "core/ModelState.h"
#include "runtime/Log.h"

namespace llama_napi {

bool GrammarAllows(llama_sampler * grammar, llama_token token) {
    llama_token_data single{ token, 0.0f, 0.0f };
    llama_token_data_array one{ &single, 1, -1, false };
    llama_sampler_apply(grammar, &one);
    return !std::isinf(single.logit);
}

llama_sampler * BuildSamplerChain(const SamplingParams & params, const ModelState & model, NativeFailure & failure,
                                  llama_sampler ** grammar_out) {
    if (grammar_out != nullptr) {
        *grammar_out = nullptr;
    }
    llama_sampler_chain_params chain_params = llama_sampler_chain_default_params();
    chain_params.no_perf = true;
    llama_sampler * chain = llama_sampler_chain_init(chain_params);
    if (chain == nullptr) {
        failure = { ErrorCode::SamplerFailed, "could not create a sampler chain" };
        return nullptr;
    }
    // Each added sampler is owned by the chain; a null one means llama.cpp refused the params.
    bool ok = true;
    auto add = [&](llama_sampler * sampler) {
        if (sampler == nullptr) {
            ok = false;
            return;
        }
        llama_sampler_chain_add(chain, sampler);
    };
    // The grammar comes first, on the whole vocabulary, so the samplers after it only ever see
    // tokens it allows (a token it forbids would make llama.cpp abort when accepted).
    if (!params.grammar.empty()) {
        LogCapture log;
        llama_sampler * grammar =
            llama_sampler_init_grammar(model.vocab, params.grammar.c_str(), params.grammar_root.c_str());
        if (grammar == nullptr) {
            llama_sampler_free(chain);
            failure = { ErrorCode::InvalidGrammar, log.Describe("llama.cpp rejected the grammar") };
            return nullptr;
        }
        if (grammar_out != nullptr) {
            *grammar_out = grammar;
        } else {
            llama_sampler_chain_add(chain, grammar);
        }
    }
    if (!params.logit_bias.empty()) {
        add(llama_sampler_init_logit_bias(model.n_vocab, static_cast<int32_t>(params.logit_bias.size()),
                                          params.logit_bias.data()));
    }
    if (params.HasPenalties()) {
        add(llama_sampler_init_penalties(model.n_vocab, params.penalty_last_n, params.repeat_penalty,
                                         params.frequency_penalty, params.presence_penalty));
    }
    if (params.temperature <= 0.0f) {
        add(llama_sampler_init_greedy());
    } else {
        // llama.cpp's common order: top-k, typical, top-p, min-p, temperature, then the draw.
        if (params.top_k > 0) add(llama_sampler_init_top_k(params.top_k));
        if (params.typical_p < 1.0f) add(llama_sampler_init_typical(params.typical_p, 1));
        if (params.top_p < 1.0f) add(llama_sampler_init_top_p(params.top_p, 1));
        if (params.min_p > 0.0f) add(llama_sampler_init_min_p(params.min_p, 1));
        add(llama_sampler_init_temp(params.temperature));
        add(llama_sampler_init_dist(params.seed));
    }
    if (!ok) {
        llama_sampler_free(chain);
        if (grammar_out != nullptr && *grammar_out != nullptr) {
            llama_sampler_free(*grammar_out);
            *grammar_out = nullptr;
        }
        failure = { ErrorCode::SamplerFailed, "llama.cpp rejected the sampling parameters" };
        return nullptr;
    }
    return chain;
}

std::string CheckGrammarText(const std::string & grammar) {
    constexpr size_t kMaxBytes = 4u << 20;
    constexpr int kMaxDepth = 200;
    if (grammar.size() > kMaxBytes) {
        return "the grammar is larger than 4 MiB";
    }
    if (grammar.find('\0') != std::string::npos) {
        return "the grammar contains a NUL character";
    }
    int depth = 0;
    for (size_t i = 0; i < grammar.size(); ++i) {
        const char c = grammar[i];
        if (c == '#') {
            while (i < grammar.size() && grammar[i] != '\n') ++i;
        } else if (c == '"' || c == '[') {
            const char close = c == '"' ? '"' : ']';
            for (++i; i < grammar.size() && grammar[i] != close; ++i) {
                if (grammar[i] == '\\') ++i;
            }
        } else if (c == '(') {
            if (++depth > kMaxDepth) {
                return "the grammar nests groups deeper than " + std::to_string(kMaxDepth) + " levels";
            }
        } else if (c == ')') {
            depth = depth > 0 ? depth - 1 : 0;
        }
    }
    return std::string();
}

namespace {

/** The token greedy sampling picks from `logits` with `bias` added (the first of equal maxima, as
 *  llama.cpp's greedy sampler), or LLAMA_TOKEN_NULL when that needs the full path: the top raw
 *  token is itself biased, or nothing is finite. */
llama_token GreedyChoice(const float * logits, int32_t n_vocab, const std::vector<llama_logit_bias> & bias) {
    // The largest value first, with independent lanes the compiler can keep in vector registers,
    // then the first token holding it.
    constexpr int kLanes = 16;
    float lanes[kLanes];
    for (int lane = 0; lane < kLanes; ++lane) lanes[lane] = -INFINITY;
    int32_t token = 0;
    for (; token + kLanes <= n_vocab; token += kLanes) {
        for (int lane = 0; lane < kLanes; ++lane) {
            lanes[lane] = logits[token + lane] > lanes[lane] ? logits[token + lane] : lanes[lane];
        }
    }
    float best_logit = -INFINITY;
    for (int lane = 0; lane < kLanes; ++lane) best_logit = lanes[lane] > best_logit ? lanes[lane] : best_logit;
    for (; token < n_vocab; ++token) best_logit = logits[token] > best_logit ? logits[token] : best_logit;
    int32_t best = 0;
    while (best < n_vocab && !(logits[best] == best_logit)) ++best;
    if (best == n_vocab) {
        return LLAMA_TOKEN_NULL;  // NaN everywhere
    }
    if (std::isinf(best_logit) || std::isnan(best_logit)) {
        return LLAMA_TOKEN_NULL;
    }
    for (const llama_logit_bias & entry : bias) {
        if (entry.token == best) {
            return LLAMA_TOKEN_NULL;  // the winner's own value changes: let the chain decide
        }
        const float biased = logits[entry.token] + entry.bias;
        if (biased > best_logit || (biased == best_logit && entry.token < best)) {
            best_logit = biased;
            best = entry.token;
        }
    }
    return std::isinf(best_logit) ? LLAMA_TOKEN_NULL : best;
}

}  // namespace

llama_token SampleToken(llama_sampler * chain, llama_context * ctx, int32_t index, int32_t n_vocab,
                        std::vector<llama_token_data> & scratch, std::string & error, llama_sampler * grammar,
                        const SamplingParams * greedy) {
    const float * logits = llama_get_logits_ith(ctx, index);
    if (logits == nullptr) {
        error = "no logits at output index " + std::to_string(index);
        return LLAMA_TOKEN_NULL;
    }
    auto fill = [&] {
        scratch.resize(static_cast<size_t>(n_vocab));
        for (llama_token token = 0; token < n_vocab; ++token) {
            scratch[token] = llama_token_data{ token, logits[token], 0.0f };
        }
        return llama_token_data_array{ scratch.data(), scratch.size(), -1, false };
    };
    auto chosen = [](const llama_token_data_array & candidates) -> const llama_token_data * {
        if (candidates.selected < 0 || candidates.selected >= static_cast<int64_t>(candidates.size)) return nullptr;
        const llama_token_data * data = &candidates.data[candidates.selected];
        return std::isinf(data->logit) || std::isnan(data->logit) ? nullptr : data;
    };

    if (greedy != nullptr) {
        const llama_token token = GreedyChoice(logits, n_vocab, greedy->logit_bias);
        if (token != LLAMA_TOKEN_NULL && (grammar == nullptr || GrammarAllows(grammar, token))) {
            if (grammar != nullptr) {
                llama_sampler_accept(grammar, token);
            }
            llama_sampler_accept(chain, token);
            return token;
        }
    }

    llama_token_data_array candidates = fill();
    llama_sampler_apply(chain, &candidates);
    const llama_token_data * pick = chosen(candidates);
    if (grammar != nullptr && (pick == nullptr || !GrammarAllows(grammar, pick->id))) {
        // The unconstrained choice is not allowed: constrain the whole vocabulary, choose again.
        candidates = fill();
        llama_sampler_apply(grammar, &candidates);
        llama_sampler_apply(chain, &candidates);
        pick = chosen(candidates);
    }
    if (pick == nullptr) {
        error = "no token is allowed here (the grammar or the logit bias rules every token out)";
        return LLAMA_TOKEN_NULL;
    }
    const llama_token token = pick->id;
    if (grammar != nullptr) {
        llama_sampler_accept(grammar, token);
    }
    llama_sampler_accept(chain, token);
    return token;
}

}  // namespace llama_napi
