// loadModel(): llama_model_load_from_file on a worker thread, with progress sent to JS through
// a thread-safe function and abort through the progress callback's return value.
#include <algorithm>
#include <cstdio>

#include "core/ModelState.h"
#include "js/EventChannel.h"
#include "runtime/Backends.h"
#include "runtime/Log.h"
#include "runtime/Rpc.h"
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

        // RPC servers' devices first, then this machine's GPUs: llama.cpp's own order (llama.cpp
        // lists its registered RPC devices first). The servers are not registered with ggml, so a
        // model that does not name them never uses them.
        std::vector<ggml_backend_dev_t> devices;
        std::vector<float> split;
        if (!request_.rpc_servers.empty()) {
            for (const std::string & endpoint : request_.rpc_servers) {
                std::string error;
                LogCapture rpc_log;
                std::vector<ggml_backend_dev_t> remote = RpcServerDevices(endpoint, error);
                if (remote.empty()) {
                    Fail(ErrorCode::ModelLoadFailed, rpc_log.Describe("cannot load " + request_.path + ": " + error));
                    return;
                }
                devices.insert(devices.end(), remote.begin(), remote.end());
                rpc_failures_.push_back(RpcFailures(endpoint));
            }
            std::vector<ggml_backend_dev_t> local_gpus;
            std::vector<ggml_backend_dev_t> local_igpus;
            for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
                ggml_backend_dev_t device = ggml_backend_dev_get(i);
                const enum ggml_backend_dev_type type = ggml_backend_dev_type(device);
                if (type == GGML_BACKEND_DEVICE_TYPE_GPU) local_gpus.push_back(device);
                if (type == GGML_BACKEND_DEVICE_TYPE_IGPU) local_igpus.push_back(device);
            }
            const std::vector<ggml_backend_dev_t> & local = local_gpus.empty() ? local_igpus : local_gpus;
            devices.insert(devices.end(), local.begin(), local.end());
            devices.push_back(nullptr);
            params.devices = devices.data();
        }
        if (!request_.tensor_split.empty()) {
            const size_t placed = devices.empty() ? ggml_backend_dev_count() : devices.size() - 1;
            if (request_.tensor_split.size() > placed) {
                Fail(ErrorCode::InvalidArgument, "tensorSplit has " + std::to_string(request_.tensor_split.size()) +
                                                     " entries for " + std::to_string(placed) + " devices");
                return;
            }
            split.assign(llama_max_devices(), 0.0f);
            std::copy(request_.tensor_split.begin(), request_.tensor_split.end(), split.begin());
            params.tensor_split = split.data();
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
        // llama.cpp's own rule (llama_model::load_tensors): with a GPU device present, the last
        // n_gpu_layers of the n_layer + 1 (the output layer included), all of them for -1.
        if (!request_.vocab_only && (HasOffloadDevice() || !request_.rpc_servers.empty())) {
            const int32_t offloadable = llama_model_n_layer(model_) + 1;
            state->offloaded_layers =
                request_.gpu_layers < 0 ? offloadable : std::min(request_.gpu_layers, offloadable);
        }
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
