// Context: the JS handle of a llama_context (one owner: ContextState).
// Contract: each context owns a persistent ggml thread pool, so a decode on any libuv thread runs on
// the same CPU threads (no thread spawned per decode). generate() requests go to the context's
// batching engine (Engine.h); raw operations (decode, sample, memory*) are refused with BUSY while it
// holds requests, and vice versa. One raw operation at a time uses a context (ContextLease, acquired on the main thread;
// a second call while one runs rejects with BUSY). dispose() marks the state disposed at once:
// the running operation is aborted through llama.cpp's abort callback and its own checks, and
// the llama_context is freed on the main thread as soon as no operation holds it. The state
// keeps its model alive until then.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

#include "ggml-cpu.h"
#include "llama.h"

namespace llama_napi {

struct ModelState;
class Engine;

struct ContextState {
    std::shared_ptr<ModelState> model;
    llama_context * ctx = nullptr;
    /** The context's own CPU threads, alive between decodes (freed after the context). */
    ggml_threadpool * threadpool = nullptr;
    std::atomic<bool> disposed{ false };
    /** The abort flag of the operation running now (nullptr between operations). */
    std::atomic<std::atomic<bool> *> active_abort{ nullptr };
    /** An operation holds the context. Main thread only. */
    bool busy = false;
    /** Which outputs of the last llama_decode have logits: the batch's size, and whether every
     *  token has them (else only the last). Written by the leaseholder. */
    int32_t last_batch_size = 0;
    bool last_logits_all = false;

    /** Whether llama_get_logits_ith(ctx, index) has logits to read. */
    bool HasLogits(int32_t index) const;

    /** The batching engine that runs generate() requests; started on the first one. Main thread. */
    Engine & EngineFor(Napi::Env env);
    /** Requests the engine holds (0 without an engine). Main thread. */
    size_t EngineActive() const;

    /** Takes ownership of `context` and `pool`, and attaches the pool to the context. */
    ContextState(std::shared_ptr<ModelState> owner, llama_context * context, ggml_threadpool * pool);
    ~ContextState();
    ContextState(const ContextState &) = delete;
    ContextState & operator=(const ContextState &) = delete;

    /** Disposes: frees now if idle, else when the running operation lets go. Main thread. */
    void MarkDisposed();
    /** Whether the running operation should stop (its abort flag, or dispose). Any thread. */
    bool ShouldStop() const;

   private:
    friend class ContextLease;
    void Free();
    std::unique_ptr<Engine> engine_;
};

/** Exclusive use of a context by one operation; released (on the main thread) by Release() or
 *  destruction. Holds the state alive. */
class ContextLease {
   public:
    ContextLease() = default;
    /** Acquires `state` for an operation whose abort flag is `abort`; throws BUSY or DISPOSED. */
    static ContextLease Acquire(Napi::Env env, std::shared_ptr<ContextState> state, std::atomic<bool> * abort);
    ContextLease(ContextLease && other) noexcept = default;
    ContextLease & operator=(ContextLease && other) noexcept;
    ~ContextLease() { Release(); }

    ContextState & operator*() const { return *state_; }
    ContextState * operator->() const { return state_.get(); }
    void Release();

   private:
    std::shared_ptr<ContextState> state_;
};

/** Context params from a JS options object (contextSize, batchSize, ubatchSize, threads,
 *  threadsBatch, sequences, flashAttention, embeddings, pooling). Throws INVALID_ARGUMENT. */
llama_context_params ReadContextParams(Napi::Env env, Napi::Object options);

class Context : public Napi::ObjectWrap<Context> {
   public:
    static constexpr napi_type_tag kTypeTag = { 0x6c6c616d61616274ULL, 0x6e61706900000003ULL };
    static constexpr const char * kClassName = "Context";

    static Napi::Function Define(Napi::Env env);
    static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<ContextState> state);

    explicit Context(const Napi::CallbackInfo & info);

   private:
    std::shared_ptr<ContextState> LiveOrThrow(Napi::Env env) const;
    /** The live, idle context for a synchronous call; throws DISPOSED or BUSY. */
    llama_context * IdleOrThrow(Napi::Env env) const;

    Napi::Value Decode(const Napi::CallbackInfo & info);
    Napi::Value Sample(const Napi::CallbackInfo & info);
    Napi::Value Generate(const Napi::CallbackInfo & info);
    Napi::Value Embed(const Napi::CallbackInfo & info);
    Napi::Value MemoryClear(const Napi::CallbackInfo & info);
    Napi::Value MemorySeqRemove(const Napi::CallbackInfo & info);
    Napi::Value MemorySeqPosMax(const Napi::CallbackInfo & info);
    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value Perf(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value Disposed(const Napi::CallbackInfo & info);

    std::shared_ptr<ContextState> state_;
};

}  // namespace llama_napi
