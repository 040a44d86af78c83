// llama.cpp log routing, levels, the user's logger and per-thread error capture (see Log.h).
#include "runtime/Log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ggml.h"
#include "llama.h"

// common/log.h, declared here: its name clashes with runtime/Log.h on case-insensitive file systems.
void common_log_set_verbosity_thold(int verbosity);

namespace llama_napi {

namespace {

struct LogLine {
    int rank;
    std::string text;
};

std::atomic<int> g_threshold{ kWarn };

// The user's logger, and who set it.
std::mutex g_sink_mutex;
std::shared_ptr<LogSink> g_sink;
const void * g_sink_owner = nullptr;

thread_local bool t_capturing = false;
thread_local std::vector<LogLine> t_captured;
thread_local size_t t_captured_bytes = 0;
thread_local ggml_log_level t_last_level = GGML_LOG_LEVEL_INFO;
thread_local bool t_demoted = false;
thread_local std::string t_partial;  // a line not finished yet (llama.cpp logs in pieces)

int Rank(ggml_log_level level) {
    switch (level) {
        case GGML_LOG_LEVEL_DEBUG: return kDebug;
        case GGML_LOG_LEVEL_INFO: return kInfo;
        case GGML_LOG_LEVEL_WARN: return kWarn;
        case GGML_LOG_LEVEL_ERROR: return kError;
        default: return kInfo;
    }
}

/** Delivers one whole line (without its newline) to the logger, or stderr. */
void Deliver(int rank, std::string line) {
    std::shared_ptr<LogSink> sink;
    {
        std::lock_guard<std::mutex> lock(g_sink_mutex);
        sink = g_sink;
    }
    if (sink) {
        sink->Write(rank, std::move(line));
    } else {
        line += '\n';
        std::fputs(line.c_str(), stderr);
    }
}

/** Splits text into lines and delivers the whole ones; keeps the unfinished rest for later. */
void Emit(int rank, const char * text) {
    if (rank < g_threshold.load(std::memory_order_relaxed)) {
        return;
    }
    t_partial += text;
    for (size_t newline = t_partial.find('\n'); newline != std::string::npos; newline = t_partial.find('\n')) {
        std::string line = t_partial.substr(0, newline);
        t_partial.erase(0, newline + 1);
        if (!line.empty()) {
            Deliver(rank, std::move(line));
        }
    }
}

void OnLog(ggml_log_level level, const char * text, void *) {
    if (text == nullptr) {
        return;
    }
    if (level == GGML_LOG_LEVEL_CONT) {
        level = t_last_level;
    } else {
        t_last_level = level;
    }
    int rank = Rank(level);
    if (t_demoted && rank < kWarn) {
        rank = kDebug;
    }
    if (t_capturing && rank >= kWarn) {
        // Held until the operation ends: logged then, or made part of its error instead.
        if (t_captured_bytes < 4096) {
            t_captured.push_back(LogLine{ rank, text });
            t_captured_bytes += std::strlen(text);
        }
        return;
    }
    Emit(rank, text);
}

std::string Trim(const std::string & text) {
    std::string out;
    bool space = false;
    for (char c : text) {
        if (c == '\n' || c == '\r') {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += "; ";
            space = false;
        }
        out += c;
    }
    return out;
}

}  // namespace

void InstallLogger() {
    const char * level = std::getenv("LLAMA_NAPI_LOG_LEVEL");
    if (level != nullptr) {
        if (std::strcmp(level, "none") == 0) g_threshold = kNone;
        else if (std::strcmp(level, "error") == 0) g_threshold = kError;
        else if (std::strcmp(level, "warn") == 0) g_threshold = kWarn;
        else if (std::strcmp(level, "info") == 0) g_threshold = kInfo;
        else if (std::strcmp(level, "debug") == 0) g_threshold = kDebug;
    }
    llama_log_set(OnLog, nullptr);
    // llama.cpp's common library (chat templates, sampling, speculative decoding) logs through a
    // writer of its own, straight to the process's stdout and stderr, past setLogger. Its problems
    // reach callers as typed errors; its notes would only clutter a terminal.
    common_log_set_verbosity_thold(-1);
}

void SetLogLevel(int rank) { g_threshold.store(rank); }

int LogLevel() { return g_threshold.load(); }

const char * LogRankName(int rank) {
    switch (rank) {
        case kDebug: return "debug";
        case kInfo: return "info";
        case kWarn: return "warn";
        default: return "error";
    }
}

void SetLogSink(std::shared_ptr<LogSink> sink, const void * owner) {
    std::shared_ptr<LogSink> previous;  // let go outside the lock: its destructor may do work
    std::lock_guard<std::mutex> lock(g_sink_mutex);
    previous = std::move(g_sink);
    g_sink = std::move(sink);
    g_sink_owner = g_sink ? owner : nullptr;
}

void ClearLogSink(const void * owner) {
    std::shared_ptr<LogSink> previous;
    std::lock_guard<std::mutex> lock(g_sink_mutex);
    if (g_sink_owner == owner) {
        previous = std::move(g_sink);
        g_sink_owner = nullptr;
    }
}

LogCapture::LogCapture() {
    t_capturing = true;
    t_captured.clear();
    t_captured_bytes = 0;
}

LogCapture::~LogCapture() {
    t_capturing = false;
    if (!consumed_) {
        for (const LogLine & line : t_captured) {
            Emit(line.rank, line.text.c_str());
        }
    }
    t_captured.clear();
    t_captured_bytes = 0;
}

std::string LogCapture::Text() const {
    std::string all;
    for (const LogLine & line : t_captured) all += line.text;
    return Trim(all);
}

std::string LogCapture::Describe(const std::string & fallback) {
    consumed_ = true;
    std::string details = Text();
    return details.empty() ? fallback : fallback + ": " + details;
}

LogDemote::LogDemote() : previous_(t_demoted) { t_demoted = true; }

LogDemote::~LogDemote() { t_demoted = previous_; }

}  // namespace llama_napi
