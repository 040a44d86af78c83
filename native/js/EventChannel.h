// Carries events from other threads to a handler on the main thread through a thread-safe
// function, batched: Push() never blocks, and one wake-up drains every pending event.
// Contract: Create(), Drain(), Ref()/Unref() and Close() on the main thread; Push() and Failed()
// from any thread. The channel is shared by its owners and the thread-safe function, so a wake-up
// that arrives after an owner is gone finds a live (empty) channel. If the handler throws, the
// error is kept, Failed() turns true, and later events are dropped.
#pragma once

#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "core/Stats.h"

namespace llama_napi {

template <typename Event>
class EventChannel {
   public:
    /** Handles one event on the main thread; may throw a Napi::Error. */
    using Handler = std::function<void(Napi::Env, Event &)>;

    static std::shared_ptr<EventChannel> Create(Napi::Env env, const char * name, Handler handler,
                                                bool coalesce = false) {
        std::shared_ptr<EventChannel> channel(new EventChannel(std::move(handler), coalesce));
        auto * holder = new std::shared_ptr<EventChannel>(channel);
        // Once the thread-safe function is gone, nothing can call the handler: it is dropped here,
        // since what it captures may own this channel (the engine's bridge does; a cycle otherwise).
        channel->tsfn_ = Tsfn::New(env, name, 0, 1, holder, [](Napi::Env, void *, std::shared_ptr<EventChannel> * h) {
            (*h)->handler_ = nullptr;
            delete h;
        });
        return channel;
    }

    /** A channel whose events are the single argument of a JS callback. */
    static std::shared_ptr<EventChannel> ForCallback(Napi::Env env, Napi::Function callback, const char * name,
                                                     std::function<Napi::Value(Napi::Env, Event &)> to_js,
                                                     bool coalesce = false) {
        auto reference = std::make_shared<Napi::FunctionReference>(Napi::Persistent(callback));
        return Create(
            env, name,
            [reference, to_js = std::move(to_js)](Napi::Env e, Event & event) { reference->Call({ to_js(e, event) }); },
            coalesce);
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

    /** Handles every pending event. Main thread. */
    void Drain(Napi::Env env) {
        std::vector<Event> events;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            events.swap(pending_);
        }
        if (events.empty() || failed_.load() || !handler_) {
            return;
        }
        Napi::HandleScope scope(env);
        size_t first = coalesce_ ? events.size() - 1 : 0;
        for (size_t i = first; i < events.size(); ++i) {
            try {
                handler_(env, events[i]);
            } catch (const Napi::Error & error) {
                error_ = Napi::Persistent(static_cast<Napi::Value>(error.Value()));
                failed_.store(true);
                return;
            }
        }
    }

    /** Lets the process exit while the channel is idle (Unref) or keeps it alive (Ref). */
    void Ref(Napi::Env env) { tsfn_.Ref(env); }
    void Unref(Napi::Env env) { tsfn_.Unref(env); }

    /** Handles what is left and lets the thread-safe function go. Main thread, once. */
    void Close(Napi::Env env) {
        if (closed_) {
            return;
        }
        closed_ = true;
        Drain(env);
        tsfn_.Release();
    }

    /** Lets the thread-safe function go without draining here: events already queued are still
     *  delivered by it. Any thread that will not Push() again; once. */
    void Release() {
        if (closed_) {
            return;
        }
        closed_ = true;
        tsfn_.Release();
    }

    bool Failed() const { return failed_.load(); }

    /** The error the handler threw, if any. Main thread. */
    Napi::Value Error(Napi::Env env) const { return error_.IsEmpty() ? env.Undefined() : error_.Value(); }

   private:
    static void CallJs(Napi::Env env, Napi::Function, std::shared_ptr<EventChannel> * holder, std::nullptr_t *) {
        if (env == nullptr || holder == nullptr) {
            return;  // the environment is shutting down
        }
        (*holder)->Drain(env);
    }

    using Tsfn = Napi::TypedThreadSafeFunction<std::shared_ptr<EventChannel>, std::nullptr_t, CallJs>;

    EventChannel(Handler handler, bool coalesce) : handler_(std::move(handler)), coalesce_(coalesce) {
        Stats::Get().channels.made++;
    }

   public:
    ~EventChannel() { Stats::Get().channels.freed++; }

   private:
    Handler handler_;
    bool coalesce_;
    Tsfn tsfn_;
    std::mutex mutex_;
    std::vector<Event> pending_;
    std::atomic<bool> failed_{ false };
    Napi::Reference<Napi::Value> error_;
    bool closed_ = false;
};

}  // namespace llama_napi
