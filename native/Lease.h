// Exclusive use of a handle (context, sampler) by one operation at a time.
// Contract: acquired and released on the main thread only; the flag outlives the lease
// (declare the lease after the shared_ptr that owns the flag, so it is destroyed first).
#pragma once

#include <utility>

namespace llama_napi {

class Lease {
   public:
    Lease() = default;
    explicit Lease(bool * flag) : flag_(flag) { *flag_ = true; }
    Lease(Lease && other) noexcept : flag_(std::exchange(other.flag_, nullptr)) {}
    Lease & operator=(Lease && other) noexcept {
        if (this != &other) {
            Release();
            flag_ = std::exchange(other.flag_, nullptr);
        }
        return *this;
    }
    Lease(const Lease &) = delete;
    Lease & operator=(const Lease &) = delete;
    ~Lease() { Release(); }

    void Release() {
        if (flag_ != nullptr) {
            *flag_ = false;
            flag_ = nullptr;
        }
    }

   private:
    bool * flag_ = nullptr;
};

}  // namespace llama_napi
