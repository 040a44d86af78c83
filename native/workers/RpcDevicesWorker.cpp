// rpcDevices(): the devices of RPC servers, asked over the network off the main thread.
#include "js/Arguments.h"
#include "runtime/Backends.h"
#include "runtime/Log.h"
#include "runtime/Rpc.h"
#include "workers/PromiseWorker.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

class RpcDevicesWorker : public PromiseWorker {
   public:
    RpcDevicesWorker(Napi::Env env, std::vector<std::string> endpoints)
        : PromiseWorker(env, "llama-napi:rpcDevices"), endpoints_(std::move(endpoints)) {}

   protected:
    void Run() override {
        for (const std::string & endpoint : endpoints_) {
            LogCapture log;
            std::string error;
            for (ggml_backend_dev_t device : RpcServerDevices(endpoint, error)) {
                devices_.push_back(DescribeDevice(device));
            }
            if (!error.empty()) {
                Fail(ErrorCode::RpcFailed, log.Describe(error));
                return;
            }
        }
    }

    Napi::Value Result(Napi::Env env) override { return MakeDeviceList(env, devices_); }

   private:
    std::vector<std::string> endpoints_;
    std::vector<DeviceInfo> devices_;
};

}  // namespace

Napi::Promise StartRpcDevices(Napi::Env env, std::vector<std::string> endpoints) {
    return (new RpcDevicesWorker(env, std::move(endpoints)))->Start();
}

}  // namespace llama_napi
