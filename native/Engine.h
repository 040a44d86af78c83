// Engine: continuous batching of generation requests on one context. Requests take a sequence
// (slot) each; every step one llama_decode evaluates the next prompt chunk of the slots still
// reading their prompt and the last sampled token of the slots generating, then each slot samples
// from its own logits. Callers beyond the number of sequences wait in a queue. A new request takes
// the free slot whose cached tokens share the longest prefix with its prompt, and evaluates only the
// rest (prompt-cache reuse).
// Contract: Submit(), Active() and Stop() on the main thread; the loop runs on the engine's own
// thread, which alone touches the context while Active() > 0 (raw operations are refused then).
// Results and streamed tokens reach JS through one thread-safe function, in order.
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "AbortToken.h"
#include "Sampler.h"
#include "StopMatcher.h"
#include "errors.h"
#include "llama.h"

namespace llama_napi {

struct ContextState;
struct EngineBridge;

/** One generation as the engine sees it. Owns its sampler chain (built by the engine). */
struct GenerationRequest {
    std::vector<llama_token> prompt;
    int32_t max_tokens = INT32_MAX;
    bool special = false;
    StopMatcher stops;
    SamplingParams sampling;
    llama_sampler * chain = nullptr;
    llama_sampler * grammar = nullptr;  // kept out of the chain: SampleToken's fast path
    AbortFlag abort;
    bool stream = false;

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
    }
};

class Engine {
   public:
    Engine(Napi::Env env, ContextState & context);
    ~Engine();
    Engine(const Engine &) = delete;
    Engine & operator=(const Engine &) = delete;

    /** Queues a request; resolves with { tokens, text, stopReason, timings } once it ends.
     *  `on_token` (may be empty) gets { token, text } for each generated token. Main thread. */
    Napi::Promise Submit(Napi::Env env, std::unique_ptr<GenerationRequest> request, Napi::Function on_token);
    /** Requests submitted and not yet settled. Main thread. */
    size_t Active() const;
    /** Stops the loop (a decode in flight is aborted through the context's abort callback) and
     *  joins the thread; requests left reject with DISPOSED. Main thread; idempotent. */
    void Stop();
    /** Whether every request in the batch being decoded has been aborted (engine thread only,
     *  from llama.cpp's abort callback). */
    bool BatchAborted() const;
    /** Raw operations changed the context's memory: forget what the slots had cached. Main thread. */
    void InvalidateCache() { cache_stale_.store(true); }

   private:
    struct Slot;
    using Arrival = std::pair<uint64_t, std::unique_ptr<GenerationRequest>>;

    // Engine thread.
    void Run();
    void Admit(Arrival arrival);
    /** Builds one batch, decodes it, samples for each slot with logits. */
    void Step();
    void Sample(Slot & slot);
    void Finish(Slot & slot, int reason, const NativeFailure * failure);
    void Forget(Slot & slot);

    ContextState & context_;
    std::shared_ptr<EngineBridge> bridge_;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::pair<uint64_t, std::unique_ptr<GenerationRequest>>> queue_;
    bool stopping_ = false;
    std::atomic<bool> cache_stale_{ false };
    uint64_t next_id_ = 1;
    // Engine thread only.
    std::vector<std::unique_ptr<Slot>> slots_;
    llama_batch batch_{};
    std::vector<llama_token_data> scratch_;
    uint64_t clock_ = 0;
    std::vector<const GenerationRequest *> batch_requests_;
    std::atomic<bool> in_batch_{ false };
};

}  // namespace llama_napi
