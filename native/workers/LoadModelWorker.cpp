// loadModel(): llama_model_load_from_file on a worker thread, with progress sent to JS through
// a thread-safe function and abort through the progress callback's return value.
#include <algorithm>
#include <cstdio>

#include "core/ModelState.h"
#include "js/EventChannel.h"
#include "runtime/Backends.h"
#include "runtime/Log.h"
#include "workers/PromiseWorker.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

class LoadModelWorker : public PromiseWorker {
   public:
    LoadModelWorker(Napi::Env env, LoadModelRequest request, Napi::Function on_progress, AbortFlag abort,
                    WrapModel wrap)
        : PromiseWorker(env, "llama-napi:loadModel"),
          request_(std::move(request)),
          abort_(std::move(abort)),
          wrap_(wrap) {
        if (!on_progress.IsEmpty()) {
            progress_ = EventChannel<float>::ForCallback(
                env, on_progress, "llama-napi:loadModel:progress",
                [](Napi::Env e, float & fraction) -> Napi::Value { return Napi::Number::New(e, fraction); },
                /*coalesce=*/true);
        }
    }

    ~LoadModelWorker() override {
        if (model_ != nullptr) {
            llama_model_free(model_);  // loaded, but never handed to JS
        }
    }

   protected:
    void Run() override {
        const std::string problem = BackendProblem();
        if (!problem.empty()) {
            Fail(ErrorCode::ModelLoadFailed, problem);
            return;
        }
        if (abort_->load()) {
            Fail(ErrorCode::Aborted, "model load aborted");
            return;
        }
        llama_model_params params = llama_model_default_params();
        params.n_gpu_layers = request_.gpu_layers;
        params.load_mode = request_.use_mmap ? LLAMA_LOAD_MODE_AUTO : LLAMA_LOAD_MODE_NONE;
        params.vocab_only = request_.vocab_only;
        params.check_tensors = request_.check_tensors;
        params.progress_callback = [](float fraction, void * data) -> bool {
            auto * self = static_cast<LoadModelWorker *>(data);
            if (self->progress_ && !self->progress_->Failed()) {
                self->progress_->Push(fraction);
            }
            return !self->abort_->load() && !self->ShuttingDown() && !(self->progress_ && self->progress_->Failed());
        };
        params.progress_callback_user_data = this;

        LogCapture log;
        model_ = llama_model_load_from_file(request_.path.c_str(), params);
        if (model_ == nullptr) {
            if (abort_->load()) {
                Fail(ErrorCode::Aborted, "model load aborted");
            } else if (progress_ && progress_->Failed()) {
                Fail(ErrorCode::Aborted, "model load stopped: onProgress threw");
            } else {
                Fail(ErrorCode::ModelLoadFailed, log.Describe("llama.cpp could not load " + request_.path));
            }
        }
    }

    void Settle() override {
        if (progress_) {
            progress_->Close(Env());
        }
    }

    Napi::Value CallbackError(Napi::Env env) override {
        return progress_ && progress_->Failed() ? progress_->Error(env) : Napi::Value();
    }

    Napi::Value Result(Napi::Env env) override {
        if (progress_ && progress_->Failed()) {
            throw Napi::Error(env, progress_->Error(env));
        }
        auto state = std::make_shared<ModelState>(model_, request_.vocab_only);
        // llama.cpp's own rule (llama_model::load_tensors): with a GPU device present, the last
        // n_gpu_layers of the n_layer + 1 (the output layer included), all of them for -1.
        if (!request_.vocab_only && HasOffloadDevice()) {
            const int32_t offloadable = llama_model_n_layer(model_) + 1;
            state->offloaded_layers =
                request_.gpu_layers < 0 ? offloadable : std::min(request_.gpu_layers, offloadable);
        }
        model_ = nullptr;  // owned by the state from here
        return wrap_(env, std::move(state));
    }

   private:
    LoadModelRequest request_;
    AbortFlag abort_;
    WrapModel wrap_;
    std::shared_ptr<EventChannel<float>> progress_;
    llama_model * model_ = nullptr;
};

}  // namespace

Napi::Promise StartLoadModel(Napi::Env env, LoadModelRequest request, Napi::Function on_progress, AbortFlag abort,
                             WrapModel wrap) {
    return (new LoadModelWorker(env, std::move(request), on_progress, std::move(abort), wrap))->Start();
}

}  // namespace llama_napi
