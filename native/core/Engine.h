// Engine: continuous batching of generation requests on one context. Requests take a sequence
// (slot) each; every step one llama_decode evaluates the next prompt chunk of the slots still
// reading their prompt and the last sampled token of the slots generating, then each slot samples
// from its own logits. Callers beyond the number of sequences wait in a queue. A request admitted
// with its prompt as text is tokenized then, on the engine's thread. It takes the free slot whose
// cached tokens share the longest prefix with its prompt, and evaluates only the rest (prompt-cache
// reuse).
// Contract: Submit(), Active(), InvalidateCache() and Stop() on the main thread; the loop runs on
// the engine's own thread, which alone touches the context while Active() > 0 (raw operations are
// refused then). Streamed tokens and results go to the EngineListener, in order.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/Abort.h"
#include "core/Errors.h"
#include "core/Logprobs.h"
#include "core/SamplingParams.h"
#include "core/StopMatcher.h"
#include "core/StopReason.h"
#include "llama.h"

namespace llama_napi {

struct ContextState;

/** The LoRA adapters a generation runs with, and their scales (empty: none). */
struct LoraSet {
    std::vector<llama_adapter_lora *> adapters;
    std::vector<float> scales;
    bool operator==(const LoraSet & other) const { return adapters == other.adapters && scales == other.scales; }
    bool operator!=(const LoraSet & other) const { return !(*this == other); }
};

/** What a request asks of the engine: a generation, or (chat sessions) to save or restore the
 *  memory of the sequence its affinity owns. */
enum class SequenceOp { None, Save, Load };

/** One generation as the engine sees it. Owns its sampler chain (built by the engine). */
struct GenerationRequest {
    SequenceOp op = SequenceOp::None;
    /** A chat session's id (0: none). The sequence a session's request used last stays its own:
     *  its next request goes there (reusing the conversation's memory), and other requests take
     *  it only when no other sequence is free. */
    uint64_t affinity = 0;
    /** Load: the sequence's memory as llama_state_seq_get_data wrote it (and the draft model's,
     *  empty without one), and the tokens it holds. */
    std::vector<uint8_t> state;
    std::vector<uint8_t> draft_state;

    /** The prompt as text, tokenized on admission (when `has_text`), or as tokens. */
    bool has_text = false;
    std::string text;
    bool add_special = true;
    bool parse_special = true;
    std::vector<llama_token> prompt;

    int32_t max_tokens = INT32_MAX;
    bool special = false;
    /** Special tokens whose text the output keeps even without `special` (sorted): a chat
     *  format's markers, which its parser reads. */
    std::vector<llama_token> preserved;
    /** Report each token's log-probability and this many alternatives; -1: none (costs nothing). */
    int32_t logprobs = -1;
    /** End-of-generation tokens are never sampled. */
    bool ignore_eos = false;
    /** At a full context, drop half of what follows the first `shift_keep` tokens after BOS and go
     *  on (llama-completion's --context-shift --keep); else stop with ContextFull. */
    bool context_shift = false;
    int32_t shift_keep = 0;
    /** Applied to the context while this request runs (with any others sharing the same set). */
    LoraSet lora;
    StopMatcher stops;
    SamplingParams sampling;
    AbortFlag abort;
    bool stream = false;

    // Made by the engine.
    llama_sampler * chain = nullptr;
    llama_sampler * grammar = nullptr;  // kept out of the chain: SampleToken's fast path
    llama_sampler * reasoning = nullptr;  // llama.cpp's reasoning budget (SamplingParams::TracksReasoning)

    GenerationRequest() = default;
    GenerationRequest(const GenerationRequest &) = delete;
    GenerationRequest & operator=(const GenerationRequest &) = delete;
    ~GenerationRequest() {
        if (chain != nullptr) {
            llama_sampler_free(chain);
        }
        if (grammar != nullptr) {
            llama_sampler_free(grammar);
        }
        if (reasoning != nullptr) {
            llama_sampler_free(reasoning);
        }
    }
};

/** What the engine reports of a request: a streamed token, or its end. */
struct EngineEvent {
    uint64_t id = 0;
    bool done = false;
    /** A Save or Load request's end: `tokens` are those the sequence holds, `state` (Save) its
     *  memory (empty when the affinity owns no sequence now). */
    bool sequence_op = false;
    std::vector<uint8_t> state;
    std::vector<uint8_t> draft_state;
    llama_token token = LLAMA_TOKEN_NULL;
    std::string text;  // token: the text it completes; done: the whole text
    /** token: its probabilities, when the request asked (has_logprob); done: those of every token. */
    bool has_logprob = false;
    TokenLogprobs logprob;
    std::vector<TokenLogprobs> logprobs;
    // done only:
    bool failed = false;
    NativeFailure failure;
    std::vector<llama_token> tokens;
    StopReason stop_reason = StopReason::MaxTokens;
    double prompt_ms = 0;
    double generate_ms = 0;
    size_t prompt_tokens = 0;
    size_t reused_tokens = 0;
    /** Speculative decoding: tokens drafted, and how many of them the model accepted. */
    size_t draft_tokens = 0;
    size_t accepted_tokens = 0;
};

/** Where an engine's events go (js/EngineBridge.h carries them to JavaScript).
 *  Contract: Deliver() from the engine thread, and from Stop() on the main thread; Unsettled() and
 *  Close() on the main thread. */
class EngineListener {
   public:
    virtual ~EngineListener() = default;
    virtual void Deliver(EngineEvent event) = 0;
    /** Requests submitted whose end has not reached their caller yet. */
    virtual size_t Unsettled() const = 0;
    /** No event follows (those delivered still reach their callers). */
    virtual void Close() = 0;
};

class Engine {
   public:
    Engine(ContextState & context, std::shared_ptr<EngineListener> listener);
    ~Engine();
    Engine(const Engine &) = delete;
    Engine & operator=(const Engine &) = delete;

    /** Queues a request; returns the id its events carry. Main thread. */
    uint64_t Submit(std::unique_ptr<GenerationRequest> request);
    /** Requests submitted and not yet settled. Main thread. */
    size_t Active() const { return listener_->Unsettled(); }
    /** Stops the loop (a decode in flight is aborted through the context's abort callback) and
     *  joins the thread; requests left end with DISPOSED. Main thread; idempotent. */
    void Stop();
    /** Whether every request in the batch being decoded has been aborted (engine thread only,
     *  from llama.cpp's abort callback). */
    bool BatchAborted() const;
    /** Raw operations changed the context's memory: forget what the slots had cached. Main thread. */
    void InvalidateCache() { cache_stale_.store(true); }
    /** A chat session ended: the sequence it owned is anyone's again. Main thread. */
    void Release(uint64_t affinity);

   private:
    struct Slot;
    using Arrival = std::pair<uint64_t, std::unique_ptr<GenerationRequest>>;

    // Engine thread.
    void Run();
    void Admit(Arrival arrival);
    /** Saves or restores a sequence's memory (a request with an op) and reports it. */
    void RunSequenceOp(Arrival arrival);
    /** The free slot for a request: its affinity's; else one no session owns, else another
     *  session's; among those, the one whose cache shares the longest prefix with `prompt`, then
     *  the least recently used. */
    Slot * PickSlot(uint64_t affinity, const std::vector<llama_token> & prompt, size_t & common);
    /** The request's prompt tokens (tokenizing its text), checked against the sequence size. */
    bool PreparePrompt(GenerationRequest & request, NativeFailure & failure) const;
    /** Builds one batch, decodes it, samples for each slot with logits. */
    void Step();
    /** Speculative decoding: drafts the tokens that may follow each generating slot's next token. */
    void Draft(size_t n_batch, size_t n_ctx_seq);
    /** Evaluates the batch just decoded on the draft model's context too (its memory mirrors the
     *  target's); a sequence it fails for drafts no more until its memory is rebuilt. */
    void MirrorOnDraft();
    /** Samples from the slot's logits: its next token, and while the samples match its draft, the
     *  drafted tokens after it (each accepted as if sampled alone); drops the rejected rest. */
    void Verify(Slot & slot);
    /** Samples one token at `index` and takes it into the output (an accepted draft token when it is
     *  `drafted`); LLAMA_TOKEN_NULL when the request ended (Finish was called). */
    llama_token Emit(Slot & slot, int32_t index, llama_token drafted);
    /** Makes room in a full sequence (context shift); false when nothing can be dropped. */
    bool ShiftContext(Slot & slot);
    void Finish(Slot & slot, StopReason reason, const NativeFailure * failure);
    /** Ends a request that never reached a slot (its prompt or sampler was refused). */
    void Reject(uint64_t id, const GenerationRequest & request, const NativeFailure & failure);
    /** Empties the slot's sequence in the context's memory (and the draft model's). */
    void ClearSequence(Slot & slot);
    /** Keeps the first `keep` tokens of the slot's sequence in memory (both contexts'). */
    void RemoveTail(Slot & slot, size_t keep);
    /** Forgets what every sequence holds, in both contexts. */
    void ClearMemory();
    /** The draft model's memory, or nullptr without a draft model. */
    llama_memory_t DraftMemory() const;
    /** Keeps the first `keep` tokens of the slot's sequence in the draft model's memory; a sequence
     *  whose memory cannot be cut so stops drafting (until its slot's next request). */
    void TrimDraft(Slot & slot, size_t keep);

    ContextState & context_;
    std::shared_ptr<EngineListener> listener_;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Arrival> queue_;
    std::vector<uint64_t> released_;  // affinities released since the loop last looked
    bool stopping_ = false;
    std::atomic<bool> cache_stale_{ false };
    /** The adapters applied to the context (engine thread; read under mutex_ when admitting). */
    LoraSet applied_lora_;
    uint64_t next_id_ = 1;
    // Engine thread only.
    std::vector<std::unique_ptr<Slot>> slots_;
    llama_batch batch_{};
    llama_batch draft_batch_{};  // the part of batch_ the draft model's context evaluates, when not all
    std::vector<llama_token_data> scratch_;
    uint64_t clock_ = 0;
    std::vector<const GenerationRequest *> batch_requests_;
    std::atomic<bool> in_batch_{ false };
};

}  // namespace llama_napi
