// The asynchronous operations of the addon, one AsyncWorker each (one .cpp per worker).
// Contract: every Start* function is called on the main thread with arguments already checked;
// the worker holds shared ownership of every state it uses (model state, context lease, sampler
// lease) until its promise settles, and never touches a Napi value off the main thread.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "core/Abort.h"
#include "core/ContextState.h"
#include "core/Lease.h"
#include "core/MemoryFit.h"
#include "core/SamplerState.h"
#include "llama.h"

namespace llama_napi {

struct ModelState;

/** Makes the JavaScript handle of a model or a context (the handles pass their NewInstance). */
using WrapModel = Napi::Object (*)(Napi::Env, std::shared_ptr<ModelState>);
using WrapContext = Napi::Object (*)(Napi::Env, std::shared_ptr<ContextState>);

/** Initializes llama.cpp's backends once per process; resolves with undefined. */
Napi::Promise StartInitBackend(Napi::Env env);

struct LoadModelRequest {
    std::string path;
    int32_t gpu_layers = -1;
    bool use_mmap = true;
    bool vocab_only = false;
    bool check_tensors = false;
    /** RPC servers ("host:port") whose devices take layers, first, as llama.cpp places them. */
    std::vector<std::string> rpc_servers;
    /** Proportions of the offloaded layers per device (the servers' devices, then local GPUs). */
    std::vector<float> tensor_split;
    /** Plan the memory first (common_fit_params) for a context of these params: the layers and
     *  context size `fit_request` leaves to the plan are chosen, and a plan that cannot fit fails
     *  with INSUFFICIENT_MEMORY before anything is allocated. */
    bool fit = false;
    llama_context_params context{};
    FitRequest fit_request;
};
/** Loads a model; resolves with wrap(state). `on_progress` (may be empty) gets fractions 0..1. */
Napi::Promise StartLoadModel(Napi::Env env, LoadModelRequest request, Napi::Function on_progress, AbortFlag abort,
                             WrapModel wrap);

/** Plans a load's memory without loading the weights (the request's fit as a load would make it);
 *  resolves with { fits, reason, gpuLayers, contextSize, devices: [...], host }. */
Napi::Promise StartEstimateMemory(Napi::Env env, LoadModelRequest request);

/** Resolves with the devices the RPC servers at `endpoints` serve (as devices() lists them). */
Napi::Promise StartRpcDevices(Napi::Env env, std::vector<std::string> endpoints);

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
/** Formats a conversation with llama.cpp's chat layer; `request` and the result are JSON text
 *  (workers/ChatWorkers.cpp). */
Napi::Promise StartApplyChat(Napi::Env env, std::shared_ptr<ModelState> model, std::string request);
/** Parses generated text with the parser applyChat returned; resolves with JSON text
 *  { content, reasoning, toolCalls: [{ name, arguments, id }], error? }. */
Napi::Promise StartParseChat(Napi::Env env, std::shared_ptr<ModelState> model, std::string text, std::string options);
/** Loads a LoRA adapter for `model`; resolves with its id (ModelState::AddLora). */
Napi::Promise StartLoadLora(Napi::Env env, std::shared_ptr<ModelState> model, std::string path);
/** Creates a context (and, with `speculative` enabled, its drafter); resolves with wrap(state), the
 *  state remembered by its model and the environment (to dispose of with them). */
Napi::Promise StartCreateContext(Napi::Env env, std::shared_ptr<ModelState> model, llama_context_params params,
                                 SpeculativeConfig speculative, WrapContext wrap);

struct DecodeRequest {
    std::vector<llama_token> tokens;
    llama_seq_id seq_id = 0;
    bool logits_all = false;
};
/** Decodes tokens after the sequence's last position, in batches of the context's batch size;
 *  resolves with undefined. */
Napi::Promise StartDecode(Napi::Env env, Lease<ContextState> context, DecodeRequest request, AbortFlag abort);

/** The (pooled) embedding of `tokens` as a Float32Array, L2-normalized when asked. */
Napi::Promise StartEmbed(Napi::Env env, Lease<ContextState> context, std::vector<llama_token> tokens, bool normalize);

/** Samples from the logits of output `index` (-1: the last); resolves with the token id. */
Napi::Promise StartSample(Napi::Env env, Lease<ContextState> context, Lease<SamplerState> sampler, int32_t index);

}  // namespace llama_napi
