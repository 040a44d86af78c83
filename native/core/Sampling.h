// Sampling: building llama.cpp's sampler chain from SamplingParams, and choosing a token with it.
// Thread-agnostic (the chain and the context are used by whoever holds them).
#pragma once

#include <string>
#include <vector>

#include "core/Errors.h"
#include "core/SamplingParams.h"
#include "llama.h"

namespace llama_napi {

struct ModelState;

/** Checks a GBNF text before llama.cpp parses it: size, and nesting depth (llama.cpp's parser
 *  recurses once per level, so a deep one would overflow the stack). Empty string: fine. */
std::string CheckGrammarText(const std::string & grammar);

/** Whether the grammar sampler `grammar`, in its current state, allows `token` next. */
bool GrammarAllows(llama_sampler * grammar, llama_token token);

/** Builds a chain for `params`. Returns nullptr and sets `failure` (INVALID_GRAMMAR or
 *  SAMPLER_FAILED) when llama.cpp refuses the parameters. With `grammar_out`, the grammar sampler
 *  is not put in the chain but returned there (nullptr without a grammar), for SampleToken's fast
 *  path; without it, the grammar heads the chain. */
llama_sampler * BuildSamplerChain(const SamplingParams & params, const ModelState & model, NativeFailure & failure,
                                  llama_sampler ** grammar_out = nullptr);

/** Adds to `params.logit_bias` what llama.cpp's tools add: the vocabulary's suppressed tokens as
 *  forbidden (common's chain does it inside; SampleToken's greedy scan must see them too), and with
 *  `ignore_eos` every end-of-generation token (when the vocabulary has an EOS, as llama-completion's
 *  --ignore-eos). */
void CompleteLogitBias(SamplingParams & params, const ModelState & model, bool ignore_eos);

/** Samples from the logits of batch output `index` with `chain`, like llama_sampler_sample, but
 *  refuses (returns LLAMA_TOKEN_NULL and sets `error`) when no token is allowed — e.g. a grammar
 *  at a dead end — instead of accepting one, which would abort inside llama.cpp. With a separate
 *  `grammar` sampler, the chain's choice on the unconstrained logits is kept when the grammar allows
 *  it (one check instead of the whole vocabulary), else the grammar filters first and the chain
 *  chooses again — llama.cpp's common sampler does the same; greedy results are identical. With
 *  `greedy` (params whose PureGreedy() holds), the choice is a scan for the largest biased logit,
 *  without building the candidate array — the same token the chain would pick. With `utf8` (and a
 *  grammar), a token it does not allow is ruled out as the grammar rules tokens out. */
/** What a grammar may not see: tokens that would make the text invalid UTF-8. llama.cpp's grammar
 *  counts a run of invalid bytes as one character, JSON.parse and every validator after it do not. */
struct Utf8Guard {
    const std::vector<std::string> * pieces = nullptr;  // ModelState::Pieces()
    std::string pending;                                 // the incomplete character the text ends with
    bool Allows(llama_token token) const;
};

/** With `reasoning` (BuildReasoningBudget's sampler), the thought is tracked as llama.cpp's common
 *  sampler tracks it: while the budget forces the closing tag, only that tag's next token can be
 *  chosen (the greedy scan is skipped); a `lazy` grammar is neither applied nor fed while the model
 *  thinks, and is given the closing tag when the thought ends. */
llama_token SampleToken(llama_sampler * chain, llama_context * ctx, int32_t index, int32_t n_vocab,
                        std::vector<llama_token_data> & scratch, std::string & error, llama_sampler * grammar = nullptr,
                        const SamplingParams * greedy = nullptr, const Utf8Guard * utf8 = nullptr,
                        llama_sampler * reasoning = nullptr, bool lazy = false);

/** llama.cpp's reasoning budget sampler for `params` (TracksReasoning() holds), fed the prompt's
 *  opening of the answer; no budget counts down as without limit. */
llama_sampler * BuildReasoningBudget(const SamplingParams & params, const ModelState & model);

}  // namespace llama_napi
