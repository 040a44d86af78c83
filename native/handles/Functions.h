// The addon's free functions (the methods are on the handles). Each reads its arguments and either
// answers at once or starts a worker. Contract: main thread.
#pragma once

#include <napi.h>

namespace llama_napi {

/** initBackend(): llama.cpp's backends, initialized off the main thread; resolves with undefined. */
Napi::Value InitBackend(const Napi::CallbackInfo & info);
/** loadModel(path, options, onProgress, abort): resolves with a Model. */
Napi::Value LoadModel(const Napi::CallbackInfo & info);
/** estimateMemory(path, options): the memory a load with these options would take, planned by
 *  llama.cpp without loading the weights (workers/EstimateMemoryWorker.cpp). */
Napi::Value EstimateMemory(const Napi::CallbackInfo & info);
/** applyChatTemplate(template, messages, addAssistant): llama.cpp's built-in formatting of a chat
 *  for the template families it recognizes; null when it does not recognize the template. */
Napi::Value ApplyChatTemplate(const Napi::CallbackInfo & info);
/** stats(): native handles made and freed so far, per kind (process-wide). */
Napi::Value HandleStats(const Napi::CallbackInfo & info);
/** setLogLevel(rank) / logLevel(): the threshold of llama.cpp's log output, a LogRank (0 debug, 1 info,
 *  3 warn, 4 error, 5 none). */
Napi::Value SetLogLevel(const Napi::CallbackInfo & info);
Napi::Value GetLogLevel(const Napi::CallbackInfo & info);
/** setLogger(fn | null): whole log lines go to fn(level, message) instead of stderr. */
Napi::Value SetLogger(const Napi::CallbackInfo & info);
/** systemInfo(), devices(), supportsGpuOffload(), supportsMmap(): what this build can run on. */
Napi::Value SystemInfo(const Napi::CallbackInfo & info);
Napi::Value Devices(const Napi::CallbackInfo & info);
/** rpcDevices(endpoints): a promise of the devices the RPC servers at `endpoints` serve. */
Napi::Value RpcDevices(const Napi::CallbackInfo & info);
Napi::Value SupportsGpuOffload(const Napi::CallbackInfo & info);
Napi::Value SupportsMmap(const Napi::CallbackInfo & info);
/** rpcServe(endpoint, { threads?, cacheDir?, devices? }): ggml's RPC server for this machine's
 *  devices at "host:port", on a thread of its own for the life of the process (llama-napi runs it
 *  in a child process). Its promise rejects (RPC_FAILED) only if the server stops. */
Napi::Value RpcServe(const Napi::CallbackInfo & info);
/** shutdown(): the environment's teardown now (process.exit() runs no cleanup hook). */
Napi::Value Shutdown(const Napi::CallbackInfo & info);

}  // namespace llama_napi
