// ContextState (see ContextState.h).
#include "core/ContextState.h"

#include "core/Engine.h"
#include "core/ModelState.h"
#include "core/Stats.h"
#include "runtime/Backends.h"
#include "speculative.h"  // llama.cpp common's speculative decoding

namespace llama_napi {

namespace {

bool AbortCallback(void * data) { return static_cast<const ContextState *>(data)->ShouldStop(); }

const NativeFailure kDisposedContext{ ErrorCode::Disposed, "the context has been disposed" };
const NativeFailure kBusyContext{ ErrorCode::Busy, "the context is busy with another operation; await it first" };

}  // namespace

Speculation::~Speculation() {
    common_speculative_free(spec);
    if (draft_ctx != nullptr) {
        llama_free(draft_ctx);
    }
}

ContextState::ContextState(std::shared_ptr<ModelState> owner, llama_context * context, ggml_threadpool * pool,
                           std::unique_ptr<Speculation> drafter)
    : model(std::move(owner)), ctx(context), threadpool(pool), speculation(std::move(drafter)) {
    Stats::Get().contexts.made++;
    llama_set_abort_callback(ctx, AbortCallback, this);
    if (threadpool != nullptr) {
        llama_attach_threadpool(ctx, threadpool, nullptr);
    }
    if (speculation && speculation->draft_ctx != nullptr) {
        // The draft model's decodes run on the same thread as the target's, one after the other.
        llama_set_abort_callback(speculation->draft_ctx, AbortCallback, this);
        if (threadpool != nullptr) {
            llama_attach_threadpool(speculation->draft_ctx, threadpool, nullptr);
        }
    }
}

ContextState::~ContextState() { Free(); }

Engine & ContextState::StartEngine(std::shared_ptr<EngineListener> listener) {
    engine_ = std::make_unique<Engine>(*this, std::move(listener));
    return *engine_;
}

bool ContextState::CheckIdle(NativeFailure & why) const {
    if (disposed.load()) {
        why = kDisposedContext;
        return false;
    }
    if (busy) {
        why = kBusyContext;
        return false;
    }
    return true;
}

void ContextState::Free() {
    if (engine_) {
        engine_->Stop();  // aborts a decode in flight (disposed is set), joins the engine thread
        engine_.reset();
    }
    speculation.reset();  // the drafter and the draft context, before the target context they refer to
    if (ctx != nullptr) {
        llama_free(ctx);
        ctx = nullptr;
        Stats::Get().contexts.freed++;
    }
    if (threadpool != nullptr) {
        ThreadpoolFree(threadpool);
        threadpool = nullptr;
    }
    model.reset();
}

void ContextState::MarkDisposed() {
    disposed.store(true);
    if (!busy) {
        Free();
    }
}

bool ContextState::HasLogits(int32_t index) const {
    if (last_batch_size <= 0) {
        return false;
    }
    if (index == -1 || index == last_batch_size - 1) {
        return true;
    }
    return last_logits_all && index >= 0 && index < last_batch_size;
}

bool ContextState::ShouldStop() const {
    if (disposed.load(std::memory_order_relaxed)) {
        return true;
    }
    if (engine_ && engine_->BatchAborted()) {
        return true;
    }
    std::atomic<bool> * abort = active_abort.load(std::memory_order_acquire);
    return abort != nullptr && abort->load(std::memory_order_relaxed);
}

bool ContextState::Begin(NativeFailure & why, std::atomic<bool> * abort) {
    if (!CheckIdle(why)) {
        return false;
    }
    if (engine_ && engine_->Active() > 0) {
        why = kBusyContext;
        return false;
    }
    if (engine_) {
        engine_->InvalidateCache();  // raw operations change the memory behind the engine
    }
    busy = true;
    active_abort.store(abort, std::memory_order_release);
    return true;
}

void ContextState::End() {
    active_abort.store(nullptr, std::memory_order_release);
    busy = false;
    if (disposed.load()) {
        Free();
    }
}

}  // namespace llama_napi
