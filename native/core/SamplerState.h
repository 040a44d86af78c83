// SamplerState: a llama.cpp sampler chain built for one model (the raw API's Sampler handle).
// Contract: main thread only; used by one operation at a time (Lease<SamplerState>); dispose frees
// the chain at once if idle, else when the operation using it lets go. Holds its model alive.
#pragma once

#include <memory>

#include "core/Errors.h"
#include "llama.h"

namespace llama_napi {

struct ModelState;

struct SamplerState {
    std::shared_ptr<ModelState> model;
    llama_sampler * chain = nullptr;
    bool busy = false;
    bool disposed = false;

    SamplerState(std::shared_ptr<ModelState> owner, llama_sampler * sampler_chain);
    ~SamplerState();
    SamplerState(const SamplerState &) = delete;
    SamplerState & operator=(const SamplerState &) = delete;

    /** Frees the chain now if idle, else when the operation using it ends. */
    void MarkDisposed();
    /** Checks the sampler is live and idle (else DISPOSED or BUSY in `why`). */
    bool CheckIdle(NativeFailure & why) const;

    // Lease<SamplerState>.
    bool Begin(NativeFailure & why);
    void End();

   private:
    void Free();
};

}  // namespace llama_napi
