// llama.cpp log routing and per-thread error capture (see Log.h).
#include "Log.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ggml.h"
#include "llama.h"

namespace llama_napi {

namespace {

// 0 = debug ... 4 = error, 5 = none; mirrors ggml_log_level ordering without CONT.
int g_threshold = 3;
thread_local bool t_capturing = false;
thread_local std::string t_captured;
thread_local ggml_log_level t_last_level = GGML_LOG_LEVEL_INFO;

int Rank(ggml_log_level level) {
    switch (level) {
        case GGML_LOG_LEVEL_DEBUG: return 0;
        case GGML_LOG_LEVEL_INFO: return 1;
        case GGML_LOG_LEVEL_WARN: return 3;
        case GGML_LOG_LEVEL_ERROR: return 4;
        default: return 1;
    }
}

void OnLog(ggml_log_level level, const char * text, void *) {
    if (level == GGML_LOG_LEVEL_CONT) {
        level = t_last_level;
    } else {
        t_last_level = level;
    }
    const int rank = Rank(level);
    if (t_capturing && rank >= 3 && text != nullptr) {
        // Held until the operation ends: printed then, or made part of its error instead.
        if (t_captured.size() < 4096) {
            t_captured += text;
        }
        return;
    }
    if (rank >= g_threshold && text != nullptr) {
        std::fputs(text, stderr);
    }
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
        if (std::strcmp(level, "none") == 0) g_threshold = 5;
        else if (std::strcmp(level, "error") == 0) g_threshold = 4;
        else if (std::strcmp(level, "warn") == 0) g_threshold = 3;
        else if (std::strcmp(level, "info") == 0) g_threshold = 1;
        else if (std::strcmp(level, "debug") == 0) g_threshold = 0;
    }
    llama_log_set(OnLog, nullptr);
}

LogCapture::LogCapture() {
    t_capturing = true;
    t_captured.clear();
}

LogCapture::~LogCapture() {
    t_capturing = false;
    if (!consumed_ && !t_captured.empty() && g_threshold <= 3) {
        std::fputs(t_captured.c_str(), stderr);
    }
    t_captured.clear();
}

std::string LogCapture::Text() const { return Trim(t_captured); }

std::string LogCapture::Describe(const std::string & fallback) {
    consumed_ = true;
    std::string details = Text();
    return details.empty() ? fallback : fallback + ": " + details;
}

}  // namespace llama_napi
