// ContextState: a llama_context, its thread pool and its batching engine.
// Contract: each context owns a persistent ggml thread pool, so a decode on any thread runs on the
// same CPU threads (no thread spawned per decode). generate() requests go to the engine
// (core/Engine.h); raw operations (decode, sample, embed, memory*) take the context with a
// Lease<ContextState>, one at a time, and are refused with BUSY while the engine holds requests,
// and vice versa. MarkDisposed() takes effect at once: the running operation is aborted through
// llama.cpp's abort callback and its own checks, and the llama_context is freed on the main thread
// as soon as no operation holds it. The state keeps its model alive until then.
// With speculative decoding it also owns llama.cpp's drafter (common/speculative) and, for a draft
// model, that model's context: it mirrors the target's memory sequence by sequence (the engine
// evaluates every batch on both, and removes from both what it removes).
#pragma once

#include <atomic>
#include <memory>

#include "core/Errors.h"
#include "core/MemoryFit.h"
#include "ggml-cpu.h"
#include "llama.h"

struct common_speculative;

namespace llama_napi {

struct ModelState;
class Engine;
class EngineListener;

/** How a context drafts tokens for speculative decoding (none when both are off). */
struct SpeculativeConfig {
    /** A draft model whose vocabulary matches the target's (nullptr: none). */
    std::shared_ptr<ModelState> draft_model;
    /** Prompt lookup: draft the tokens that followed the last n-gram where it occurred before. */
    bool lookup = false;
    /** Most tokens drafted per step and sequence (0: llama.cpp's default for a draft model, 16 for lookup). */
    int32_t max_draft = 0;
    bool Enabled() const { return draft_model != nullptr || lookup; }
};

/** The drafter of a context: llama.cpp's common_speculative, and the draft model's context. */
struct Speculation {
    SpeculativeConfig config;
    llama_context * draft_ctx = nullptr;
    common_speculative * spec = nullptr;
    ~Speculation();
};

struct ContextState {
    std::shared_ptr<ModelState> model;
    llama_context * ctx = nullptr;
    /** The context's own CPU threads, alive between decodes (freed after the context). */
    ggml_threadpool * threadpool = nullptr;
    std::atomic<bool> disposed{ false };
    /** The abort flag of the operation running now (nullptr between operations). */
    std::atomic<std::atomic<bool> *> active_abort{ nullptr };
    /** A raw operation holds the context. Main thread only. */
    bool busy = false;
    /** Which outputs of the last llama_decode have logits: the batch's size, and whether every
     *  token has them (else only the last). Written by the leaseholder. */
    int32_t last_batch_size = 0;
    bool last_logits_all = false;
    /** Speculative decoding (nullptr: off). Used by the engine thread only. */
    std::unique_ptr<Speculation> speculation;
    /** What the context and its model held once created (measured before the context was shared:
     *  a decode may grow compute buffers later, and reading them meanwhile would race). */
    MemoryBreakdown memory;

    /** Takes ownership of `context`, `pool` and `drafter`, and attaches the pool to the contexts. */
    ContextState(std::shared_ptr<ModelState> owner, llama_context * context, ggml_threadpool * pool,
                 std::unique_ptr<Speculation> drafter = nullptr);
    ~ContextState();
    ContextState(const ContextState &) = delete;
    ContextState & operator=(const ContextState &) = delete;

    /** Whether llama_get_logits_ith(ctx, index) has logits to read. */
    bool HasLogits(int32_t index) const;

    /** The batching engine, or nullptr before the first generate(). Main thread. */
    Engine * engine() const { return engine_.get(); }
    /** Starts the engine; its events go to `listener`. Main thread, once. */
    Engine & StartEngine(std::shared_ptr<EngineListener> listener);
    /** Live, and no raw operation running (else `why`): what a generate() needs, and a raw operation
     *  too, with the engine idle besides. Main thread. */
    bool CheckIdle(NativeFailure & why) const;

    /** Disposes: frees now if idle, else when the running operation lets go. Main thread. */
    void MarkDisposed();
    /** Whether the running operation should stop (its abort flag, or dispose). Any thread. */
    bool ShouldStop() const;

    // Lease<ContextState>: a raw operation whose abort flag is `abort` (may be nullptr).
    bool Begin(NativeFailure & why, std::atomic<bool> * abort);
    void End();

   private:
    void Free();
    std::unique_ptr<Engine> engine_;
};

}  // namespace llama_napi
