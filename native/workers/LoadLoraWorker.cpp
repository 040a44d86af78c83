// model.loadLora(): loads a LoRA adapter for the model (llama_adapter_lora_init). llama.cpp checks
// the file is an adapter, of the model's architecture, with tensors of the base model's shapes; its
// reason for refusing becomes the INVALID_LORA message. The adapter lives as long as the model.
#include "core/ModelState.h"
#include "runtime/Log.h"
#include "workers/PromiseWorker.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

class LoadLoraWorker : public PromiseWorker {
   public:
    LoadLoraWorker(Napi::Env env, std::shared_ptr<ModelState> model, std::string path)
        : PromiseWorker(env, "llama-napi:loadLora"), model_(std::move(model)), path_(std::move(path)) {}

   protected:
    void Run() override {
        LogCapture log;
        llama_adapter_lora * adapter = llama_adapter_lora_init(model_->model, path_.c_str());
        if (adapter == nullptr) {
            Fail(ErrorCode::InvalidLora, log.Describe("llama.cpp could not load the LoRA adapter " + path_));
            return;
        }
        id_ = model_->AddLora(adapter);
    }

    Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, id_); }

   private:
    std::shared_ptr<ModelState> model_;
    std::string path_;
    int32_t id_ = -1;
};

}  // namespace

Napi::Promise StartLoadLora(Napi::Env env, std::shared_ptr<ModelState> model, std::string path) {
    return (new LoadLoraWorker(env, std::move(model), std::move(path)))->Start();
}

}  // namespace llama_napi
