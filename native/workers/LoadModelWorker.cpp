// loadModel(): llama_model_load_from_file on a worker thread, with progress sent to JS through
// a thread-safe function and abort through the progress callback's return value.
#include <algorithm>
#include <cstdio>

#include "core/ModelState.h"
#include "js/EventChannel.h"
#include "runtime/Backends.h"
#include "runtime/Log.h"
#include "runtime/Rpc.h"
#include "workers/ModelPlacement.h"
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
        if (abort_->load()) {
            Fail(ErrorCode::Aborted, "model load aborted");
            return;
        }
        NativeFailure failure;
        if (!PlaceModel(request_, placement_, failure)) {
            Fail(failure.code, failure.message);
            return;
        }
        llama_model_params & params = placement_.params;
        params.progress_callback = [](float fraction, void * data) -> bool {
            auto * self = static_cast<LoadModelWorker *>(data);
            if (self->progress_ && !self->progress_->Failed()) {
                self->progress_->Push(fraction);
            }
            return !self->abort_->load() && !self->ShuttingDown() && !(self->progress_ && self->progress_->Failed());
        };
        params.progress_callback_user_data = this;
        rpc_failures_ = placement_.rpc_failures;

        if (request_.fit && !request_.vocab_only) {
            // The plan loads no weights: no progress to report, and no callback to call meanwhile.
            llama_model_params planned = params;
            planned.progress_callback = nullptr;
            planned.progress_callback_user_data = nullptr;
            llama_context_params context = request_.context;
            const FitOutcome outcome =
                FitToMemory(request_.path, planned, context, request_.fit_request, placement_.fit);
            if (abort_->load()) {
                Fail(ErrorCode::Aborted, "model load aborted");
                return;
            }
            if (!outcome.fits) {
                Fail(outcome.code, outcome.message);
                return;
            }
            params.n_gpu_layers = planned.n_gpu_layers;
            params.tensor_split = planned.tensor_split;
            params.tensor_buft_overrides = planned.tensor_buft_overrides;
            planned_context_ = context.n_ctx;
        }

        LogCapture log;
        model_ = llama_model_load_from_file(request_.path.c_str(), params);
        // A connection that failed meanwhile left the model (if llama.cpp finished it) without its
        // layers there.
        if (const int lost = LostRpcServer(); lost >= 0) {
            if (model_ != nullptr) llama_model_free(model_);
            model_ = nullptr;
            Fail(ErrorCode::RpcFailed, "the connection to the RPC server " +
                                           request_.rpc_servers[static_cast<size_t>(lost)] + " failed while " +
                                           request_.path + " was loading");
            return;
        }
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
        state->rpc_endpoints = request_.rpc_servers;
        state->rpc_failures_at_load = rpc_failures_;
        if (!request_.vocab_only && (HasOffloadDevice() || !request_.rpc_servers.empty())) {
            state->offloaded_layers = OffloadedLayers(placement_.params.n_gpu_layers, llama_model_n_layer(model_));
        }
        state->planned_context = planned_context_;
        model_ = nullptr;  // owned by the state from here
        return wrap_(env, std::move(state));
    }

   private:
    /** The index of a server whose connection failed since the load began, or -1. */
    int LostRpcServer() const {
        for (size_t i = 0; i < rpc_failures_.size(); ++i) {
            if (RpcFailures(request_.rpc_servers[i]) != rpc_failures_[i]) return static_cast<int>(i);
        }
        return -1;
    }

    LoadModelRequest request_;
    ModelPlacement placement_;
    uint32_t planned_context_ = 0;
    std::vector<uint64_t> rpc_failures_;
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
