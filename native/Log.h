// Routes llama.cpp's and ggml's log output: lines at or above a threshold go to stderr (never
// stdout), and errors raised on a worker thread are captured so they can become the message of
// the LlamaError that operation rejects with.
// Contract: InstallLogger() once, on the main thread; LogCapture lives on one worker thread.
#pragma once

#include <string>

namespace llama_napi {

/** Sets llama.cpp's log callback. The threshold comes from LLAMA_NAPI_LOG_LEVEL
 *  (none | error | warn | info | debug; default warn). */
void InstallLogger();

/** While alive, holds back the warning and error lines logged on the current thread: they are
 *  printed when it ends, unless Describe() made them part of an error message instead. */
class LogCapture {
   public:
    LogCapture();
    ~LogCapture();
    LogCapture(const LogCapture &) = delete;
    LogCapture & operator=(const LogCapture &) = delete;

    /** The captured lines, trimmed, joined with "; " (empty if none). */
    std::string Text() const;
    /** `fallback` followed by the captured lines, if any; they are not printed then. */
    std::string Describe(const std::string & fallback);

    /** Drops the captured lines (an expected failure, such as a decode we aborted). */
    void Discard() { consumed_ = true; }

   private:
    bool consumed_ = false;
};

}  // namespace llama_napi
