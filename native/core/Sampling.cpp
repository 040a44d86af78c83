// Sampler chains and token choice (see Sampling.h).
#include "core/Sampling.h"

#include <climits>
#include <cmath>
#include <exception>
#include <string>

#include "core/ModelState.h"
#include "core/TokenText.h"
#include "reasoning-budget.h"  // llama.cpp common's reasoning budget
#include "runtime/Log.h"
#include "sampling.h"          // llama.cpp common's sampler chain

namespace llama_napi {

bool GrammarAllows(llama_sampler * grammar, llama_token token) {
    llama_token_data single{ token, 0.0f, 0.0f };
    llama_token_data_array one{ &single, 1, -1, false };
    llama_sampler_apply(grammar, &one);
    return !std::isinf(single.logit);
}

namespace {

common_sampler_type CommonType(SamplerKind kind) {
    switch (kind) {
        case SamplerKind::Penalties: return COMMON_SAMPLER_TYPE_PENALTIES;
        case SamplerKind::Dry: return COMMON_SAMPLER_TYPE_DRY;
        case SamplerKind::TopNSigma: return COMMON_SAMPLER_TYPE_TOP_N_SIGMA;
        case SamplerKind::TopK: return COMMON_SAMPLER_TYPE_TOP_K;
        case SamplerKind::TypicalP: return COMMON_SAMPLER_TYPE_TYPICAL_P;
        case SamplerKind::TopP: return COMMON_SAMPLER_TYPE_TOP_P;
        case SamplerKind::MinP: return COMMON_SAMPLER_TYPE_MIN_P;
        case SamplerKind::Xtc: return COMMON_SAMPLER_TYPE_XTC;
        case SamplerKind::Temperature: break;
    }
    return COMMON_SAMPLER_TYPE_TEMPERATURE;
}

/** llama.cpp's common sampler parameters for `params`, without the grammar (kept apart, see
 *  SampleToken). */
common_params_sampling CommonParams(const SamplingParams & params) {
    common_params_sampling common;
    common.seed = params.seed;
    common.no_perf = true;
    common.temp = params.temperature;
    common.top_k = params.top_k;
    common.top_p = params.top_p;
    common.min_p = params.min_p;
    common.typ_p = params.typical_p;
    common.top_n_sigma = params.top_n_sigma;
    common.penalty_last_n = params.penalty_last_n;
    common.penalty_repeat = params.repeat_penalty;
    common.penalty_freq = params.frequency_penalty;
    common.penalty_present = params.presence_penalty;
    common.dry_multiplier = params.dry_multiplier;
    common.dry_base = params.dry_base;
    common.dry_allowed_length = params.dry_allowed_length;
    common.dry_penalty_last_n = params.dry_penalty_last_n;
    common.dry_sequence_breakers = params.dry_sequence_breakers;
    common.xtc_probability = params.xtc_probability;
    common.xtc_threshold = params.xtc_threshold;
    common.mirostat = params.mirostat;
    common.mirostat_tau = params.mirostat_tau;
    common.mirostat_eta = params.mirostat_eta;
    common.logit_bias = params.logit_bias;
    common.samplers.clear();
    for (SamplerKind kind : params.order) {
        common.samplers.push_back(CommonType(kind));
    }
    return common;
}

}  // namespace

llama_sampler * BuildSamplerChain(const SamplingParams & params, const ModelState & model, NativeFailure & failure,
                                  llama_sampler ** grammar_out) {
    if (grammar_out != nullptr) {
        *grammar_out = nullptr;
    }
    if (params.mirostat < 0 || params.mirostat > 2) {
        failure = { ErrorCode::InvalidArgument, "mirostat must be 0, 1 or 2" };
        return nullptr;
    }
    // The chain exactly as llama.cpp's tools build it (logit bias with the vocabulary's suppressed
    // tokens, then the samplers in `order`, then the draw; or Mirostat), taken out of the common
    // sampler that built it.
    llama_sampler * samplers = nullptr;
    try {
        common_params_sampling common = CommonParams(params);
        common_sampler * built = common_sampler_init(model.model, common);
        if (built != nullptr) {
            samplers = llama_sampler_clone(common_sampler_get(built));
            common_sampler_free(built);
        }
    } catch (const std::exception & e) {
        failure = { ErrorCode::SamplerFailed, std::string("llama.cpp rejected the sampling parameters: ") + e.what() };
        return nullptr;
    }
    if (samplers == nullptr) {
        failure = { ErrorCode::SamplerFailed, "llama.cpp rejected the sampling parameters" };
        return nullptr;
    }
    if (params.grammar.empty()) {
        return samplers;
    }
    // The grammar, on the whole vocabulary: the samplers after it only ever see tokens it allows
    // (a token it forbids would make llama.cpp abort when accepted).
    LogCapture log;
    llama_sampler * grammar = nullptr;
    if (params.grammar_lazy) {
        std::vector<const char *> patterns;
        for (const std::string & pattern : params.grammar_trigger_patterns) patterns.push_back(pattern.c_str());
        try {
            grammar = llama_sampler_init_grammar_lazy_patterns(
                model.vocab, params.grammar.c_str(), params.grammar_root.c_str(), patterns.data(), patterns.size(),
                params.grammar_trigger_tokens.data(), params.grammar_trigger_tokens.size());
        } catch (const std::exception & e) {
            // std::regex rejects a trigger pattern.
            llama_sampler_free(samplers);
            failure = { ErrorCode::InvalidGrammar, std::string("a grammar trigger pattern is invalid: ") + e.what() };
            return nullptr;
        }
    } else {
        grammar = llama_sampler_init_grammar(model.vocab, params.grammar.c_str(), params.grammar_root.c_str());
    }
    if (grammar == nullptr) {
        llama_sampler_free(samplers);
        failure = { ErrorCode::InvalidGrammar, log.Describe("llama.cpp rejected the grammar") };
        return nullptr;
    }
    for (llama_token token : params.grammar_prefill) {
        // What the prompt already holds; a token the grammar forbids would make llama.cpp abort.
        if (!GrammarAllows(grammar, token)) {
            llama_sampler_free(grammar);
            llama_sampler_free(samplers);
            failure = { ErrorCode::InvalidGrammar,
                        "the grammar does not accept the text the prompt opens the answer with" };
            return nullptr;
        }
        llama_sampler_accept(grammar, token);
    }
    if (grammar_out != nullptr) {
        *grammar_out = grammar;
        return samplers;
    }
    llama_sampler_chain_params chain_params = llama_sampler_chain_default_params();
    chain_params.no_perf = true;
    llama_sampler * chain = llama_sampler_chain_init(chain_params);
    if (chain == nullptr) {
        llama_sampler_free(grammar);
        llama_sampler_free(samplers);
        failure = { ErrorCode::SamplerFailed, "could not create a sampler chain" };
        return nullptr;
    }
    llama_sampler_chain_add(chain, grammar);
    llama_sampler_chain_add(chain, samplers);
    return chain;
}

void CompleteLogitBias(SamplingParams & params, const ModelState & model, bool ignore_eos) {
    int32_t count = 0;
    const llama_token * suppressed = llama_vocab_get_suppress_tokens(model.vocab, &count);
    for (int32_t i = 0; i < count; ++i) {
        params.logit_bias.push_back({ suppressed[i], -INFINITY });
    }
    if (ignore_eos && llama_vocab_eos(model.vocab) != LLAMA_TOKEN_NULL) {
        for (llama_token token = 0; token < model.n_vocab; ++token) {
            if (llama_vocab_is_eog(model.vocab, token)) {
                params.logit_bias.push_back({ token, -INFINITY });
            }
        }
    }
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

bool Utf8Guard::Allows(llama_token token) const {
    return pieces == nullptr || Utf8Continues(pending, (*pieces)[static_cast<size_t>(token)]);
}

llama_sampler * BuildReasoningBudget(const SamplingParams & params, const ModelState & model) {
    llama_sampler * sampler = common_reasoning_budget_init(
        model.vocab, { params.reasoning_start }, params.reasoning_end, params.reasoning_forced,
        params.reasoning_budget < 0 ? INT_MAX : params.reasoning_budget);
    for (llama_token token : params.reasoning_prefill) {
        // A budget spent inside the prompt (0, or no more than the template writes after the tag)
        // forces the closing tag from the first generated token. llama.cpp's common_sampler_init
        // feeds it the rest of the prompt too, which it then counts as the forced tag: a budget of 0
        // after "<think>\n" would force nothing.
        if (common_reasoning_budget_get_state(sampler) == REASONING_BUDGET_FORCING) break;
        llama_sampler_accept(sampler, token);
    }
    return sampler;
}

llama_token SampleToken(llama_sampler * chain, llama_context * ctx, int32_t index, int32_t n_vocab,
                        std::vector<llama_token_data> & scratch, std::string & error, llama_sampler * grammar,
                        const SamplingParams * greedy, const Utf8Guard * utf8, llama_sampler * reasoning, bool lazy) {
    // common_sampler's terms: a lazy grammar sits out the thought; a forced token overrides the draw.
    const common_reasoning_budget_state thought =
        reasoning != nullptr ? common_reasoning_budget_get_state(reasoning) : REASONING_BUDGET_DONE;
    llama_sampler * const given_grammar = grammar;
    if (lazy && thought != REASONING_BUDGET_IDLE && thought != REASONING_BUDGET_DONE) {
        grammar = nullptr;
    }
    const bool forcing = thought == REASONING_BUDGET_FORCING;
    auto accept = [&](llama_token token) {
        if (reasoning != nullptr) {
            llama_sampler_accept(reasoning, token);
            const llama_tokens * closing = common_reasoning_budget_get_end_match(reasoning);
            if (grammar == nullptr && given_grammar != nullptr && closing != nullptr &&
                common_reasoning_budget_get_state(reasoning) == REASONING_BUDGET_DONE) {
                // The thought just ended: the lazy grammar reads its closing tag (a trigger may follow it).
                for (llama_token closing_token : *closing) llama_sampler_accept(given_grammar, closing_token);
            }
        }
        if (grammar != nullptr) {
            llama_sampler_accept(grammar, token);
        }
        llama_sampler_accept(chain, token);
    };
    // Only a grammar's text is guarded (free text keeps whatever bytes the model writes).
    if (grammar == nullptr) utf8 = nullptr;
    auto allowed = [&](llama_token token) {
        return grammar == nullptr || (GrammarAllows(grammar, token) && (utf8 == nullptr || utf8->Allows(token)));
    };
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

    if (greedy != nullptr && !forcing) {
        const llama_token token = GreedyChoice(logits, n_vocab, greedy->logit_bias);
        if (token != LLAMA_TOKEN_NULL && allowed(token)) {
            accept(token);
            return token;
        }
    }

    llama_token_data_array candidates = fill();
    if (forcing) {
        llama_sampler_apply(reasoning, &candidates);
    }
    llama_sampler_apply(chain, &candidates);
    const llama_token_data * pick = chosen(candidates);
    if (grammar != nullptr && (pick == nullptr || !allowed(pick->id))) {
        // The unconstrained choice is not allowed: constrain the whole vocabulary, choose again.
        candidates = fill();
        if (forcing) {
            llama_sampler_apply(reasoning, &candidates);
        }
        llama_sampler_apply(grammar, &candidates);
        if (utf8 != nullptr) {
            for (size_t i = 0; i < candidates.size; ++i) {
                llama_token_data & candidate = candidates.data[i];
                if (candidate.logit != -INFINITY && !utf8->Allows(candidate.id)) candidate.logit = -INFINITY;
            }
        }
        llama_sampler_apply(chain, &candidates);
        pick = chosen(candidates);
    }
    if (pick == nullptr) {
        error = "no token is allowed here (the grammar or the logit bias rules every token out)";
        return LLAMA_TOKEN_NULL;
    }
    const llama_token token = pick->id;
    accept(token);
    return token;
}

}  // namespace llama_napi
