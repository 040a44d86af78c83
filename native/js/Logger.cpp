// A log sink whose lines reach a JavaScript function (see Logger.h).
#include "js/Logger.h"

#include <memory>
#include <string>

#include "js/EventChannel.h"
#include "runtime/Log.h"

namespace llama_napi {

namespace {

struct LogLine {
    int rank;
    std::string text;
};

class JsLogSink : public LogSink {
   public:
    explicit JsLogSink(std::shared_ptr<EventChannel<LogLine>> channel) : channel_(std::move(channel)) {}
    // The last holder may be a thread that just logged: releasing the channel is thread-safe.
    ~JsLogSink() override { channel_->Release(); }

    void Write(int rank, std::string line) override { channel_->Push(LogLine{ rank, std::move(line) }); }

   private:
    std::shared_ptr<EventChannel<LogLine>> channel_;
};

}  // namespace

void SetLogger(Napi::Env env, Napi::Function logger) {
    const void * owner = static_cast<napi_env>(env);
    if (logger.IsEmpty()) {
        SetLogSink(nullptr, owner);
        return;
    }
    auto reference = std::make_shared<Napi::FunctionReference>(Napi::Persistent(logger));
    auto channel = EventChannel<LogLine>::Create(env, "llama-napi:log", [reference](Napi::Env e, LogLine & line) {
        reference->Call({ Napi::String::New(e, LogRankName(line.rank)), Napi::String::New(e, line.text) });
    });
    channel->Unref(env);
    SetLogSink(std::make_shared<JsLogSink>(std::move(channel)), owner);
}

void ForgetLogger(napi_env env) { ClearLogSink(env); }

}  // namespace llama_napi
