// Routes llama.cpp's and ggml's log output: whole lines at or above a threshold go to the user's
// logger (a JS function, through a thread-safe function) or, without one, to stderr — never to
// stdout. Errors raised while an operation runs are held back, so they can become the message of
// the LlamaError it rejects with instead of being printed.
// Contract: InstallLogger(), SetLogger() and SetLogLevel() on a main thread; logging from any
// thread; LogCapture lives on one thread.
#pragma once

#include <napi.h>

#include <string>

namespace llama_napi {

/** Log levels, by rank: the threshold lets through what is at or above it. */
enum LogRank : int { kDebug = 0, kInfo = 1, kWarn = 3, kError = 4, kNone = 5 };

/** Sets llama.cpp's log callback. The initial threshold comes from LLAMA_NAPI_LOG_LEVEL
 *  (none | error | warn | info | debug; default warn). */
void InstallLogger();

/** Sets the threshold (a LogRank). */
void SetLogLevel(int rank);
int LogLevel();

/** Sends log lines to `logger(level, message)` from now on (an empty function: back to stderr).
 *  The logger belongs to `env`; ForgetLogger(env) drops it when that environment goes away. */
void SetLogger(Napi::Env env, Napi::Function logger);
void ForgetLogger(napi_env env);

/** While alive, holds back the warning and error lines logged on the current thread: they are
 *  logged when it ends, unless Describe() made them part of an error message instead. */
class LogCapture {
   public:
    LogCapture();
    ~LogCapture();
    LogCapture(const LogCapture &) = delete;
    LogCapture & operator=(const LogCapture &) = delete;

    /** The captured lines, trimmed, joined with "; " (empty if none). */
    std::string Text() const;
    /** `fallback` followed by the captured lines, if any; they are not logged then. */
    std::string Describe(const std::string & fallback);

    /** Drops the captured lines (an expected failure, such as a decode we aborted). */
    void Discard() { consumed_ = true; }

   private:
    bool consumed_ = false;
};

}  // namespace llama_napi
