// Lease<State>: exclusive use of a context or a sampler by one operation at a time.
// Contract: acquired and released on the main thread; the lease keeps the state alive until then.
// State provides `bool Begin(NativeFailure & why, Args...)`, which takes the state for an
// operation or says why it cannot (BUSY, DISPOSED), and `void End()`, which lets it go (and frees
// what a dispose() during the operation left to free).
#pragma once

#include <memory>
#include <utility>

#include "core/Errors.h"

namespace llama_napi {

template <typename State>
class Lease {
   public:
    Lease() = default;
    /** Takes `state` for one operation; an empty lease, with `failure` saying why, if it cannot. */
    template <typename... Args>
    static Lease Acquire(std::shared_ptr<State> state, NativeFailure & failure, Args &&... args) {
        Lease lease;
        if (state && state->Begin(failure, std::forward<Args>(args)...)) {
            lease.state_ = std::move(state);
        }
        return lease;
    }
    Lease(Lease && other) noexcept = default;
    Lease & operator=(Lease && other) noexcept {
        if (this != &other) {
            Release();
            state_ = std::move(other.state_);
        }
        return *this;
    }
    Lease(const Lease &) = delete;
    Lease & operator=(const Lease &) = delete;
    ~Lease() { Release(); }

    explicit operator bool() const { return state_ != nullptr; }
    State & operator*() const { return *state_; }
    State * operator->() const { return state_.get(); }

    /** Ends the operation's hold on the state; idempotent. */
    void Release() {
        if (state_) {
            state_->End();
            state_.reset();
        }
    }

   private:
    std::shared_ptr<State> state_;
};

}  // namespace llama_napi
