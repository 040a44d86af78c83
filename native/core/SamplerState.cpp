// SamplerState (see SamplerState.h).
#include "core/SamplerState.h"

#include "core/ModelState.h"
#include "core/Stats.h"

namespace llama_napi {

SamplerState::SamplerState(std::shared_ptr<ModelState> owner, llama_sampler * sampler_chain)
    : model(std::move(owner)), chain(sampler_chain) {
    Stats::Get().samplers.made++;
}

SamplerState::~SamplerState() { Free(); }

void SamplerState::Free() {
    if (chain != nullptr) {
        llama_sampler_free(chain);
        chain = nullptr;
        Stats::Get().samplers.freed++;
    }
    model.reset();
}

void SamplerState::MarkDisposed() {
    disposed = true;
    if (!busy) {
        Free();
    }
}

bool SamplerState::CheckIdle(NativeFailure & why) const {
    if (disposed) {
        why = { ErrorCode::Disposed, "the sampler has been disposed" };
        return false;
    }
    if (busy) {
        why = { ErrorCode::Busy, "the sampler is busy with another operation; await it first" };
        return false;
    }
    return true;
}

bool SamplerState::Begin(NativeFailure & why) {
    if (!CheckIdle(why)) {
        return false;
    }
    busy = true;
    return true;
}

void SamplerState::End() {
    busy = false;
    if (disposed) {
        Free();
    }
}

}  // namespace llama_napi
