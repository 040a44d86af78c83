// Routes llama.cpp's and ggml's log output: whole lines at or above a threshold go to a sink (the
// user's logger: js/Logger.h) or, without one, to stderr — never to stdout. Errors raised while an
// operation runs are held back, so they can become the message of the error it fails with instead
// of being printed.
// Contract: InstallLogger(), SetLogSink() and SetLogLevel() from any thread (the addon calls them on
// a main thread); logging from any thread; LogCapture lives on one thread.
#pragma once

#include <memory>
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

/** The name of a rank as JavaScript sees it: debug, info, warn or error. */
const char * LogRankName(int rank);

/** Receives whole log lines (without the newline). Write() is called from any thread. */
class LogSink {
   public:
    virtual ~LogSink() = default;
    virtual void Write(int rank, std::string line) = 0;
};

/** Sends log lines to `sink` from now on (nullptr: back to stderr). `owner` tags who set it, so
 *  ClearLogSink(owner) drops it only if that owner's sink is still the one in use. */
void SetLogSink(std::shared_ptr<LogSink> sink, const void * owner);
void ClearLogSink(const void * owner);

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

/** While alive, llama.cpp's info lines on the current thread are logged as debug: the trial loads
 *  of a memory plan repeat what the real load then says. Nests. */
class LogDemote {
   public:
    LogDemote();
    ~LogDemote();
    LogDemote(const LogDemote &) = delete;
    LogDemote & operator=(const LogDemote &) = delete;

   private:
    bool previous_;
};

}  // namespace llama_napi
