// Environment teardown (see AddonData.h).
#include "js/AddonData.h"

#include <chrono>
#include <thread>

#include "core/ModelState.h"
#include "js/Logger.h"

namespace llama_napi {

void TearDown(AddonData & data, napi_env env) {
    data.shutdown->stopping.store(true);
    ForgetLogger(env);
    DisposeAll(data.contexts);
    for (int waited = 0; data.shutdown->running.load() > 0 && waited < 10000; ++waited) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

}  // namespace llama_napi
