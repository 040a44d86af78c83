// The asynchronous operations of the addon, one AsyncWorker each (one .cpp per worker).
// Contract: every Start* function is called on the main thread with arguments already checked;
// the worker holds shared ownership of every handle it uses (model state, context lease,
// sampler lease) until its promise settles, and never touches a Napi value off the main thread.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "AbortToken.h"
#include "Context.h"
#include "Sampler.h"
#include "llama.h"

namespace llama_napi {

struct ModelState;

/** Initializes llama.cpp's backends once per process; resolves with undefined. */
Napi::Promise StartInitBackend(Napi::Env env);

struct LoadModelRequest {
    std::string path;
    int32_t gpu_layers = -1;
    bool use_mmap = true;
    bool vocab_only = false;
    bool check_tensors = false;
};
/** Loads a model; resolves with a Model. `on_progress` (may be empty) gets fractions 0..1. */
Napi::Promise StartLoadModel(Napi::Env env, LoadModelRequest request, Napi::Function on_progress, AbortFlag abort);

/** Resolves with an Int32Array of token ids. */
Napi::Promise StartTokenize(Napi::Env env, std::shared_ptr<ModelState> model, std::string text, bool add_special,
                            bool parse_special);
/** Resolves with the text of `tokens`. */
Napi::Promise StartDetokenize(Napi::Env env, std::shared_ptr<ModelState> model, std::vector<llama_token> tokens,
                              bool remove_special, bool unparse_special);
/** Resolves with one Uint8Array of raw piece bytes per token. */
Napi::Promise StartTokenToPiece(Napi::Env env, std::shared_ptr<ModelState> model, std::vector<llama_token> tokens,
                                bool special);
/** Feeds `tokens` to llama.cpp's grammar engine; resolves with { accepted, complete }. */
Napi::Promise StartGrammarMatch(Napi::Env env, std::shared_ptr<ModelState> model, std::string grammar, std::string root,
                                std::vector<llama_token> tokens);
/** Creates a context; resolves with a Context. */
Napi::Promise StartCreateContext(Napi::Env env, std::shared_ptr<ModelState> model, llama_context_params params);

struct DecodeRequest {
    std::vector<llama_token> tokens;
    llama_seq_id seq_id = 0;
    bool logits_all = false;
};
/** Decodes tokens after the sequence's last position, in batches of the context's batch size;
 *  resolves with undefined. */
Napi::Promise StartDecode(Napi::Env env, ContextLease context, DecodeRequest request, AbortFlag abort);

/** The (pooled) embedding of `tokens` as a Float32Array, L2-normalized when asked. */
Napi::Promise StartEmbed(Napi::Env env, ContextLease context, std::vector<llama_token> tokens, bool normalize);

/** Samples from the logits of output `index` (-1: the last); resolves with the token id. */
Napi::Promise StartSample(Napi::Env env, ContextLease context, SamplerLease sampler, int32_t index);

}  // namespace llama_napi
