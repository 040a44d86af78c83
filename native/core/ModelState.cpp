// ModelState (see ModelState.h).
#include "core/ModelState.h"

#include <algorithm>

#include "core/ContextState.h"
#include "core/Stats.h"

namespace llama_napi {

ModelState::ModelState(llama_model * m, bool vocab_only_model)
    : model(m), vocab(llama_model_get_vocab(m)), n_vocab(llama_vocab_n_tokens(vocab)), vocab_only(vocab_only_model) {
    Stats::Get().models.made++;
}

ModelState::~ModelState() {
    llama_model_free(model);
    Stats::Get().models.freed++;
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
