// Base of every AsyncWorker in the addon: one Promise per operation, coded failures, and a
// Settle() hook that releases leases and flushes callbacks before the promise settles.
// Contract: Run() executes on a libuv worker thread and must not touch any Napi value;
// Result(), Settle() and CallbackError() run on the main thread.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "js/AddonData.h"
#include "js/Errors.h"

namespace llama_napi {

class PromiseWorker : public Napi::AsyncWorker {
   public:
    /** Queues the work and returns its promise. */
    Napi::Promise Start() {
        Napi::Promise promise = deferred_.Promise();
        Queue();
        return promise;
    }

   protected:
    PromiseWorker(Napi::Env env, const char * name)
        : Napi::AsyncWorker(env, name),
          deferred_(Napi::Promise::Deferred::New(env)),
          shutdown_(AddonData::Of(env).shutdown) {}

    /** True once the environment tears down: long work should stop. Any thread. */
    bool ShuttingDown() const { return shutdown_->stopping.load(std::memory_order_relaxed); }

    /** The work itself; worker thread. Report errors with Fail(). */
    virtual void Run() = 0;
    /** The value the promise resolves with; main thread. May throw a Napi::Error to reject. */
    virtual Napi::Value Result(Napi::Env env) = 0;
    /** Called on the main thread before the promise settles, on success and on failure. */
    virtual void Settle() {}
    /** A JS error to reject with instead of the coded failure (e.g. one a user callback threw);
     *  empty for none. Main thread, after Settle(). */
    virtual Napi::Value CallbackError(Napi::Env) { return Napi::Value(); }

    void Fail(ErrorCode code, const std::string & message) {
        failure_ = NativeFailure{ code, message };
        SetError(message);
    }

    bool Failed() const { return failed_; }

   private:
    void Execute() final {
        // Counted, so an environment tearing down can wait for native work to leave llama.cpp.
        struct Running {
            std::atomic<int> & count;
            explicit Running(std::atomic<int> & c) : count(c) { count.fetch_add(1); }
            ~Running() { count.fetch_sub(1); }
        } running(shutdown_->running);
        try {
            Run();
        } catch (const std::bad_alloc &) {
            Fail(ErrorCode::NativeError, "out of memory");
        } catch (const std::exception & e) {
            Fail(ErrorCode::NativeError, std::string("llama.cpp raised: ") + e.what());
        } catch (...) {
            Fail(ErrorCode::NativeError, "llama.cpp raised an unknown exception");
        }
        failed_ = !failure_.message.empty();
    }

    void OnOK() final {
        Napi::Env env = Env();
        Settle();
        Napi::Value value;
        try {
            value = Result(env);
        } catch (const Napi::Error & error) {
            deferred_.Reject(error.Value());
            return;
        }
        deferred_.Resolve(value);
    }

    void OnError(const Napi::Error &) final {
        Napi::Env env = Env();
        Settle();
        Napi::Value callback_error = CallbackError(env);
        if (!callback_error.IsEmpty() && !callback_error.IsUndefined()) {
            deferred_.Reject(callback_error);
            return;
        }
        deferred_.Reject(MakeError(env, failure_.code, failure_.message).Value());
    }

    Napi::Promise::Deferred deferred_;
    std::shared_ptr<ShutdownState> shutdown_;
    NativeFailure failure_{ ErrorCode::NativeError, "" };
    bool failed_ = false;
};

}  // namespace llama_napi
