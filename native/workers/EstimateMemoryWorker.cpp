// estimateMemory(): a load's memory plan without its weights — llama.cpp's no_alloc load of the
// model and its context, after the fit a load would make (core/MemoryFit.h).
#include "core/MemoryFit.h"
#include "js/Memory.h"
#include "workers/ModelPlacement.h"
#include "workers/PromiseWorker.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

class EstimateMemoryWorker : public PromiseWorker {
   public:
    EstimateMemoryWorker(Napi::Env env, LoadModelRequest request)
        : PromiseWorker(env, "llama-napi:estimateMemory"), request_(std::move(request)) {}

   protected:
    void Run() override {
        NativeFailure failure;
        if (!PlaceModel(request_, placement_, failure)) {
            Fail(failure.code, failure.message);
            return;
        }
        llama_model_params & params = placement_.params;
        context_ = request_.context;
        const FitOutcome outcome = FitToMemory(request_.path, params, context_, request_.fit_request, placement_.fit);
        fits_ = outcome.fits;
        reason_ = outcome.message;
        std::string error;
        if (!MeasureMemory(request_.path, params, context_, breakdown_, error)) {
            Fail(ErrorCode::ModelLoadFailed, error);
            return;
        }
        offloaded_ = breakdown_.devices.empty() ? 0 : OffloadedLayers(params.n_gpu_layers, breakdown_.layers);
    }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object result = MakeMemoryBreakdown(env, breakdown_);
        result.Set("fits", Napi::Boolean::New(env, fits_));
        result.Set("reason", fits_ ? env.Null() : Napi::String::New(env, reason_));
        Napi::Object layers = Napi::Object::New(env);
        layers.Set("offloaded", Napi::Number::New(env, offloaded_));
        layers.Set("total", Napi::Number::New(env, breakdown_.layers + 1));
        result.Set("gpuLayers", layers);
        result.Set("contextSize", Napi::Number::New(env, context_.n_ctx));
        return result;
    }

   private:
    LoadModelRequest request_;
    ModelPlacement placement_;
    llama_context_params context_{};
    MemoryBreakdown breakdown_;
    bool fits_ = true;
    std::string reason_;
    int32_t offloaded_ = 0;
};

}  // namespace

Napi::Promise StartEstimateMemory(Napi::Env env, LoadModelRequest request) {
    return (new EstimateMemoryWorker(env, std::move(request)))->Start();
}

}  // namespace llama_napi
