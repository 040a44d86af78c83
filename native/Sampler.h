// Sampler: the JS handle of a llama.cpp sampler chain (one owner: SamplerState), and the
// sampling parameters shared with generation.
// Contract: a sampler is used by one operation at a time (SamplerLease, main thread); dispose()
// frees the chain at once if idle, else when the running operation lets go.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "errors.h"
#include "llama.h"

namespace llama_napi {

struct ModelState;

/** Everything the sampler chain is built from; defaults are llama.cpp's. */
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

    /** Greedy with no state to carry (no penalties): the argmax of the biased logits decides. */
    bool PureGreedy() const {
        const bool penalties = penalty_last_n != 0 && (repeat_penalty != 1.0f || frequency_penalty != 0.0f || presence_penalty != 0.0f);
        return temperature <= 0.0f && !penalties;
    }
};

/** Checks a GBNF text before llama.cpp parses it: size, and nesting depth (llama.cpp's parser
 *  recurses once per level, so a deep one would overflow the stack). Empty string: fine. */
std::string CheckGrammarText(const std::string & grammar);

/** Samples from the logits of batch output `index` with `chain`, like llama_sampler_sample, but
 *  refuses (returns LLAMA_TOKEN_NULL and sets `error`) when no token is allowed — e.g. a grammar
 *  at a dead end — instead of accepting one, which would abort inside llama.cpp. With a separate
 *  `grammar` sampler, the chain's choice on the unconstrained logits is kept when the grammar allows
 *  it (one check instead of the whole vocabulary), else the grammar filters first and the chain
 *  chooses again — llama.cpp's common sampler does the same; greedy results are identical. With
 *  `greedy` (params whose PureGreedy() holds), the choice is a scan for the largest biased logit,
 *  without building the candidate array — the same token the chain would pick. Any thread that
 *  holds the context. */
llama_token SampleToken(llama_sampler * chain, llama_context * ctx, int32_t index, int32_t n_vocab,
                        std::vector<llama_token_data> & scratch, std::string & error, llama_sampler * grammar = nullptr,
                        const SamplingParams * greedy = nullptr);

/** Sampling params from a JS object (camelCase keys); throws INVALID_ARGUMENT. Main thread. */
SamplingParams ReadSamplingParams(Napi::Env env, Napi::Object options, const ModelState & model);

/** Builds a chain for `params` (thread-agnostic). Returns nullptr and sets `failure` (INVALID_GRAMMAR
 *  or SAMPLER_FAILED) when llama.cpp refuses the parameters. With `grammar_out`, the grammar sampler
 *  is not put in the chain but returned there (nullptr without a grammar), for SampleToken's fast
 *  path; without it, the grammar heads the chain. */
llama_sampler * BuildSamplerChain(const SamplingParams & params, const ModelState & model, NativeFailure & failure,
                                  llama_sampler ** grammar_out = nullptr);

struct SamplerState {
    std::shared_ptr<ModelState> model;
    llama_sampler * chain = nullptr;
    bool busy = false;      // main thread only
    bool disposed = false;  // main thread only

    SamplerState(std::shared_ptr<ModelState> owner, llama_sampler * sampler_chain);
    ~SamplerState();
    SamplerState(const SamplerState &) = delete;
    SamplerState & operator=(const SamplerState &) = delete;

    void MarkDisposed();
    void Free();
};

/** Exclusive use of a sampler by one operation. Main thread. */
class SamplerLease {
   public:
    SamplerLease() = default;
    static SamplerLease Acquire(Napi::Env env, std::shared_ptr<SamplerState> state);
    SamplerLease(SamplerLease && other) noexcept = default;
    SamplerLease & operator=(SamplerLease && other) noexcept;
    ~SamplerLease() { Release(); }

    SamplerState * operator->() const { return state_.get(); }
    void Release();

   private:
    std::shared_ptr<SamplerState> state_;
};

class Sampler : public Napi::ObjectWrap<Sampler> {
   public:
    static constexpr napi_type_tag kTypeTag = { 0x6c6c616d61616274ULL, 0x6e61706900000004ULL };
    static constexpr const char * kClassName = "Sampler";

    static Napi::Function Define(Napi::Env env);
    /** The live state behind a Sampler argument; throws INVALID_ARGUMENT or DISPOSED. */
    static std::shared_ptr<SamplerState> StateOf(Napi::Env env, Napi::Value value, const char * what);

    /** new Sampler(model, params): builds the chain synchronously (cheap). */
    explicit Sampler(const Napi::CallbackInfo & info);

   private:
    SamplerState & IdleOrThrow(Napi::Env env) const;
    Napi::Value Accept(const Napi::CallbackInfo & info);
    Napi::Value Reset(const Napi::CallbackInfo & info);
    Napi::Value Seed(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value Disposed(const Napi::CallbackInfo & info);

    std::shared_ptr<SamplerState> state_;
};

}  // namespace llama_napi
