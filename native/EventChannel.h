// Carries events from a worker thread to a JS callback on the main thread through a
// thread-safe function, batched: Push() never blocks, and one wake-up drains every pending event.
// Contract: create, Drain() and Close() on the main thread; Push() and Failed() from any thread.
// The channel is shared by its worker and the thread-safe function, so a wake-up that arrives
// after the worker is gone finds a live (empty) channel. If the callback throws, the error is
// kept, Failed() turns true, and later events are dropped.
#pragma once

#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace llama_napi {

template <typename Event>
class EventChannel : public std::enable_shared_from_this<EventChannel<Event>> {
   public:
    /** Turns one event into the callback's single argument. Main thread. */
    using ToJs = std::function<Napi::Value(Napi::Env, Event &)>;

    static std::shared_ptr<EventChannel> Create(Napi::Env env, Napi::Function callback, const char * name,
                                                ToJs to_js, bool coalesce = false) {
        std::shared_ptr<EventChannel> channel(new EventChannel(callback, std::move(to_js), coalesce));
        auto * holder = new std::shared_ptr<EventChannel>(channel);
        channel->tsfn_ = Tsfn::New(env, callback, name, 0, 1, holder,
                                   [](Napi::Env, void *, std::shared_ptr<EventChannel> * h) { delete h; });
        return channel;
    }

    /** Queues an event; wakes the main thread if nothing was pending. Any thread. */
    void Push(Event event) {
        if (failed_.load(std::memory_order_relaxed)) {
            return;
        }
        bool wake;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            wake = pending_.empty();
            pending_.push_back(std::move(event));
        }
        if (wake) {
            tsfn_.NonBlockingCall();
        }
    }

    /** Delivers every pending event to the callback. Main thread. */
    void Drain(Napi::Env env) {
        std::vector<Event> events;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            events.swap(pending_);
        }
        if (events.empty() || failed_.load()) {
            return;
        }
        Napi::HandleScope scope(env);
        size_t first = coalesce_ ? events.size() - 1 : 0;
        for (size_t i = first; i < events.size(); ++i) {
            try {
                callback_.Call({ to_js_(env, events[i]) });
            } catch (const Napi::Error & error) {
                error_ = Napi::Persistent(static_cast<Napi::Value>(error.Value()));
                failed_.store(true);
                return;
            }
        }
    }

    /** Delivers what is left and lets the thread-safe function go. Main thread, once. */
    void Close(Napi::Env env) {
        if (closed_) {
            return;
        }
        closed_ = true;
        Drain(env);
        tsfn_.Release();
    }

    bool Failed() const { return failed_.load(); }

    /** The error the callback threw, if any. Main thread. */
    Napi::Value Error(Napi::Env env) const { return error_.IsEmpty() ? env.Undefined() : error_.Value(); }

   private:
    static void CallJs(Napi::Env env, Napi::Function, std::shared_ptr<EventChannel> * holder, std::nullptr_t *) {
        if (env == nullptr || holder == nullptr) {
            return;  // the environment is shutting down
        }
        (*holder)->Drain(env);
    }

    using Tsfn = Napi::TypedThreadSafeFunction<std::shared_ptr<EventChannel>, std::nullptr_t, CallJs>;

    EventChannel(Napi::Function callback, ToJs to_js, bool coalesce)
        : callback_(Napi::Persistent(callback)), to_js_(std::move(to_js)), coalesce_(coalesce) {}

    Napi::FunctionReference callback_;
    ToJs to_js_;
    bool coalesce_;
    Tsfn tsfn_;
    std::mutex mutex_;
    std::vector<Event> pending_;
    std::atomic<bool> failed_{ false };
    Napi::Reference<Napi::Value> error_;
    bool closed_ = false;
};

}  // namespace llama_napi
