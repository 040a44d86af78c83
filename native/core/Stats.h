// Counts of native handles made and freed, per kind, process-wide: a handle freed twice or never
// shows as a mismatch (the handles test and scripts/soak.mjs read them through the addon's stats()).
#pragma once

#include <atomic>

namespace llama_napi {

struct HandleCounts {
    std::atomic<long long> made{ 0 };
    std::atomic<long long> freed{ 0 };
};

struct Stats {
    HandleCounts models;
    HandleCounts contexts;
    HandleCounts samplers;
    HandleCounts engines;
    /** Thread-safe-function channels (events from worker threads to JavaScript). */
    HandleCounts channels;

    static Stats & Get() {
        static Stats stats;
        return stats;
    }
};

}  // namespace llama_napi
