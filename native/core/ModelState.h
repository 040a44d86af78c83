// ModelState: a loaded llama_model and what is known of it.
// Contract: owns the llama_model and frees it when the last holder lets go — the Model handle, each
// of the model's contexts and samplers, and each worker in flight hold a shared_ptr, all created
// and dropped on the main thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "llama.h"

struct common_chat_templates;

namespace llama_napi {

struct ContextState;

struct ModelState {
    llama_model * model = nullptr;
    const llama_vocab * vocab = nullptr;
    int32_t n_vocab = 0;
    bool vocab_only = false;
    /** Layers llama.cpp put on a GPU (the output layer counts as one, as in its "offloaded n/m"). */
    int32_t offloaded_layers = 0;
    /** The context size (all sequences) the memory plan chose at load, 0 without a plan. */
    uint32_t planned_context = 0;
    /** The handle was disposed (work already in flight may still finish). Main thread only. */
    bool disposed = false;
    /** The contexts created from this model, to dispose with it. Main thread only. */
    std::vector<std::weak_ptr<ContextState>> contexts;
    /** The RPC servers holding some of its layers ("host:port"), and each one's failure count when
     *  the model was loaded. Set before the model is shared; read-only after. */
    std::vector<std::string> rpc_endpoints;
    std::vector<uint64_t> rpc_failures_at_load;

    ModelState(llama_model * m, bool vocab_only_model);
    ~ModelState();
    ModelState(const ModelState &) = delete;
    ModelState & operator=(const ModelState &) = delete;

    /** True when 0 <= token < n_vocab. */
    bool ValidToken(int64_t token) const { return token >= 0 && token < n_vocab; }

    /** True once a connection to one of its RPC servers has failed: what was placed there is lost
     *  and the model cannot compute any more (it must be loaded again). Latches. Any thread. */
    bool RpcLost() const;
    /** Why RpcLost() is true, naming the server. Any thread. */
    std::string RpcLostMessage() const;

    /** Marks the model disposed and disposes its contexts. Main thread. */
    void MarkDisposed();

    /** Every token's piece (special tokens render empty), made on first use. Any thread. */
    const std::vector<std::string> & Pieces() const;

    /** Keeps a loaded LoRA adapter (llama.cpp frees it with the model); returns its id. Any thread. */
    int32_t AddLora(llama_adapter_lora * adapter);
    /** The adapter with that id, or nullptr. Any thread. */
    llama_adapter_lora * Lora(int64_t id) const;

    /** llama.cpp's chat templates (common/chat) for Jinja `source`, or the model's own when it is
     *  empty: parsed on first use and kept (the last few). Throws what llama.cpp throws for a
     *  template it cannot parse. Any thread; renders under ChatLock(). */
    std::shared_ptr<common_chat_templates> ChatTemplates(const std::string & source);
    /** Held while a template renders or a parser runs on this model's templates. */
    std::mutex & ChatLock() { return chat_render_mutex_; }

   private:
    mutable std::atomic<int> rpc_lost_{ -1 };  // the failed endpoint's index, -1 while none has
    mutable std::once_flag pieces_once_;
    mutable std::vector<std::string> pieces_;
    mutable std::mutex lora_mutex_;
    std::vector<llama_adapter_lora *> loras_;
    std::mutex chat_mutex_;
    std::mutex chat_render_mutex_;
    std::vector<std::pair<std::string, std::shared_ptr<common_chat_templates>>> chat_templates_;
};

/** Adds `state` to a list of weak references, dropping the expired ones so they do not pile up. */
void Remember(std::vector<std::weak_ptr<ContextState>> & list, const std::shared_ptr<ContextState> & state);

/** Disposes every context of `list` still alive, and empties it. Main thread. */
void DisposeAll(std::vector<std::weak_ptr<ContextState>> & list);

}  // namespace llama_napi
