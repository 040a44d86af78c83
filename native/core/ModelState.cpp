// ModelState (see ModelState.h).
#include "core/ModelState.h"

#include <algorithm>

#include "chat.h"
#include "core/ContextState.h"
#include "core/Stats.h"
#include "core/TokenText.h"
#include "runtime/Rpc.h"

namespace llama_napi {

ModelState::ModelState(llama_model * m, bool vocab_only_model)
    : model(m), vocab(llama_model_get_vocab(m)), n_vocab(llama_vocab_n_tokens(vocab)), vocab_only(vocab_only_model) {
    Stats::Get().models.made++;
}

ModelState::~ModelState() {
    llama_model_free(model);
    Stats::Get().models.freed++;
}

bool ModelState::RpcLost() const {
    if (rpc_lost_.load(std::memory_order_relaxed) >= 0) return true;
    for (size_t i = 0; i < rpc_endpoints.size(); ++i) {
        if (RpcFailures(rpc_endpoints[i]) != rpc_failures_at_load[i]) {
            int expected = -1;
            rpc_lost_.compare_exchange_strong(expected, static_cast<int>(i));
            return true;
        }
    }
    return false;
}

std::string ModelState::RpcLostMessage() const {
    const int lost = rpc_lost_.load();
    const std::string endpoint = lost >= 0 ? rpc_endpoints[static_cast<size_t>(lost)] : std::string("?");
    return "the connection to the RPC server " + endpoint +
           " failed (the server stopped or the network failed): the model's layers there are lost; load the model "
           "again";
}

const std::vector<std::string> & ModelState::Pieces() const {
    std::call_once(pieces_once_, [this] {
        pieces_.resize(static_cast<size_t>(n_vocab));
        for (llama_token token = 0; token < n_vocab; ++token) {
            AppendPiece(vocab, token, false, pieces_[static_cast<size_t>(token)]);
        }
    });
    return pieces_;
}

int32_t ModelState::AddLora(llama_adapter_lora * adapter) {
    std::lock_guard<std::mutex> lock(lora_mutex_);
    loras_.push_back(adapter);
    return static_cast<int32_t>(loras_.size() - 1);
}

llama_adapter_lora * ModelState::Lora(int64_t id) const {
    std::lock_guard<std::mutex> lock(lora_mutex_);
    return id >= 0 && id < static_cast<int64_t>(loras_.size()) ? loras_[static_cast<size_t>(id)] : nullptr;
}

std::shared_ptr<common_chat_templates> ModelState::ChatTemplates(const std::string & source) {
    constexpr size_t kKept = 8;
    std::lock_guard<std::mutex> lock(chat_mutex_);
    for (size_t i = 0; i < chat_templates_.size(); ++i) {
        if (chat_templates_[i].first == source) {
            std::shared_ptr<common_chat_templates> found = chat_templates_[i].second;
            std::rotate(chat_templates_.begin() + static_cast<std::ptrdiff_t>(i),
                        chat_templates_.begin() + static_cast<std::ptrdiff_t>(i) + 1, chat_templates_.end());
            return found;
        }
    }
    // common_chat_templates_init rethrows a parse error as a bare std::exception (its message
    // lost): parse the template once here first, for the message.
    const char * own = source.empty() ? llama_model_chat_template(model, nullptr) : nullptr;
    const std::string text = source.empty() ? std::string(own == nullptr ? "" : own) : source;
    if (!text.empty() && text != "chatml") {
        common_chat_template probe(text, "", "");
    }
    std::shared_ptr<common_chat_templates> made(common_chat_templates_init(model, source).release(),
                                                common_chat_templates_deleter());
    if (chat_templates_.size() >= kKept) chat_templates_.erase(chat_templates_.begin());
    chat_templates_.emplace_back(source, made);
    return made;
}

void ModelState::MarkDisposed() {
    DisposeAll(contexts);
    disposed = true;
}

void Remember(std::vector<std::weak_ptr<ContextState>> & list, const std::shared_ptr<ContextState> & state) {
    list.erase(std::remove_if(list.begin(), list.end(), [](const auto & weak) { return weak.expired(); }), list.end());
    list.push_back(state);
}

void DisposeAll(std::vector<std::weak_ptr<ContextState>> & list) {
    for (const std::weak_ptr<ContextState> & weak : list) {
        if (std::shared_ptr<ContextState> context = weak.lock()) {
            context->MarkDisposed();
        }
    }
    list.clear();
}

}  // namespace llama_napi
