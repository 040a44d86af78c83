// Continuous batching engine (see Engine.h).
#include "core/Engine.h"

#include <algorithm>
#include <chrono>

#include "core/ContextState.h"
#include "core/ModelState.h"
#include "core/Sampling.h"
#include "core/Stats.h"
#include "core/TokenText.h"
#include "runtime/Log.h"
#include "speculative.h"  // llama.cpp common's speculative decoding

namespace llama_napi {

namespace {

using Clock = std::chrono::steady_clock;

double Milliseconds(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace

/** A sequence of the context and the request using it. Engine thread only. */
struct Engine::Slot {
    llama_seq_id seq = 0;
    /** Tokens whose keys and values sit in this sequence's memory, in order. */
    std::vector<llama_token> cached;
    uint64_t last_used = 0;
    /** The chat session whose request used this sequence last (0: none). */
    uint64_t owner = 0;

    // The request in progress (none when idle).
    uint64_t id = 0;
    std::unique_ptr<GenerationRequest> request;
    size_t prompt_done = 0;  // prompt tokens in memory
    size_t reused = 0;
    std::vector<llama_token> generated;
    std::vector<TokenLogprobs> logprobs;  // one per generated token, when the request asks
    std::string text;     // bytes of every piece generated
    size_t emitted = 0;   // bytes of `text` already streamed
    size_t cut = std::string::npos;  // where a stop string starts
    llama_token next = LLAMA_TOKEN_NULL;  // sampled, to decode next
    int32_t batch_index = -1;  // where this slot's logits are in the batch being decoded
    Clock::time_point admitted;
    Clock::time_point prompt_finished;
    bool evaluated = false;  // the whole prompt is in memory
    size_t shift_keep = 0;   // context shift: tokens never dropped (BOS and the kept prompt)
    bool shifted = false;    // memory past shift_keep holds shifted cells
    // Speculative decoding.
    std::vector<llama_token> draft;  // drafted tokens in the batch after `next`
    size_t keep = SIZE_MAX;          // tokens of memory a Finish now keeps (the rest: a rejected draft)
    bool draft_synced = true;        // the draft model's memory holds `cached` for this sequence
    size_t draft_tokens = 0;
    size_t accepted_tokens = 0;
    size_t draft_limit = SIZE_MAX;  // the longest draft worth verifying now, from how the last ones fared

    bool Busy() const { return request != nullptr; }
};

Engine::Engine(ContextState & context, std::shared_ptr<EngineListener> listener)
    : context_(context), listener_(std::move(listener)) {
    Stats::Get().engines.made++;
}

Engine::~Engine() {
    Stop();
    Stats::Get().engines.freed++;
}

uint64_t Engine::Submit(std::unique_ptr<GenerationRequest> request) {
    uint64_t id;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        id = next_id_++;
        queue_.emplace_back(id, std::move(request));
        if (!thread_.joinable()) {
            thread_ = std::thread([this] { Run(); });
        }
    }
    wake_.notify_one();
    return id;
}

void Engine::Release(uint64_t affinity) {
    if (affinity == 0) {
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        released_.push_back(affinity);
    }
    wake_.notify_one();
}

void Engine::Stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) {
        thread_.join();
    }
    // The loop ended what it held; what never reached it ends here. The listener delivers these
    // before it closes.
    const NativeFailure disposed{ ErrorCode::Disposed, "the context was disposed before the generation started" };
    for (Arrival & arrival : queue_) {
        Reject(arrival.first, *arrival.second, disposed);
    }
    queue_.clear();
    listener_->Close();
}

bool Engine::BatchAborted() const {
    if (!in_batch_.load(std::memory_order_acquire) || batch_requests_.empty()) {
        return false;
    }
    for (const GenerationRequest * request : batch_requests_) {
        if (!request->abort->load(std::memory_order_relaxed)) {
            return false;
        }
    }
    return true;
}

void Engine::Run() {
    const auto n_seq = static_cast<llama_seq_id>(llama_n_seq_max(context_.ctx));
    for (llama_seq_id seq = 0; seq < n_seq; ++seq) {
        slots_.push_back(std::make_unique<Slot>());
        slots_.back()->seq = seq;
    }
    batch_ = llama_batch_init(static_cast<int32_t>(llama_n_batch(context_.ctx)), 0, 1);
    if (context_.speculation && context_.speculation->draft_ctx != nullptr) {
        draft_batch_ = llama_batch_init(static_cast<int32_t>(llama_n_batch(context_.ctx)), 0, 1);
    }

    for (;;) {
        std::vector<Arrival> arrivals;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            const bool busy = std::any_of(slots_.begin(), slots_.end(), [](const auto & s) { return s->Busy(); });
            if (!busy) {
                wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !released_.empty(); });
            }
            if (stopping_) {
                break;
            }
            for (uint64_t affinity : released_) {
                for (auto & slot : slots_) {
                    if (slot->owner == affinity) slot->owner = 0;
                }
            }
            released_.clear();
            // As many waiting requests as there are free slots, first come first served. All
            // requests in flight share the context's LoRA adapters: one that wants others waits
            // until those in flight have finished (and those behind it wait too).
            auto free = std::count_if(slots_.begin(), slots_.end(), [](const auto & s) { return !s->Busy(); });
            while (free-- > 0 && !queue_.empty()) {
                const LoraSet & wanted = queue_.front().second->lora;
                // Saving a sequence's memory reads it as it is, whatever the adapters.
                if (queue_.front().second->op != SequenceOp::Save && (busy || !arrivals.empty()) &&
                    wanted != (arrivals.empty() ? applied_lora_ : arrivals[0].second->lora)) {
                    break;
                }
                arrivals.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        const auto switching = std::find_if(arrivals.begin(), arrivals.end(),
                                            [](const Arrival & a) { return a.second->op != SequenceOp::Save; });
        if (switching != arrivals.end() && switching->second->lora != applied_lora_) {
            // No request is in flight: switch the adapters, and forget caches made without them.
            LoraSet & next = switching->second->lora;
            llama_set_adapters_lora(context_.ctx, next.adapters.data(), next.adapters.size(), next.scales.data());
            applied_lora_ = next;
            ClearMemory();
        }
        if (cache_stale_.exchange(false)) {
            ClearMemory();
        }
        for (Arrival & arrival : arrivals) {
            if (arrival.second->op != SequenceOp::None) {
                RunSequenceOp(std::move(arrival));
            } else {
                Admit(std::move(arrival));
            }
        }
        // Requests aborted since the last step end here, with what they have.
        for (auto & slot : slots_) {
            if (slot->Busy() && slot->request->abort->load()) {
                Finish(*slot, StopReason::Abort, nullptr);
            }
        }
        try {
            Step();
        } catch (const std::exception & e) {
            NativeFailure failure{ ErrorCode::NativeError, std::string("llama.cpp raised: ") + e.what() };
            for (auto & slot : slots_) {
                if (slot->Busy()) {
                    ClearSequence(*slot);
                    Finish(*slot, StopReason::Abort, &failure);
                }
            }
        }
    }

    // Stopping (dispose): everything still held is rejected.
    NativeFailure disposed{ ErrorCode::Disposed, "the context was disposed during generation" };
    for (auto & slot : slots_) {
        if (slot->Busy()) {
            Finish(*slot, StopReason::Abort, &disposed);
        }
    }
    llama_batch_free(batch_);
    if (draft_batch_.token != nullptr) {
        llama_batch_free(draft_batch_);
    }
}

bool Engine::PreparePrompt(GenerationRequest & request, NativeFailure & failure) const {
    if (request.has_text) {
        std::string error;
        if (!Tokenize(context_.model->vocab, request.text, request.add_special, request.parse_special, request.prompt,
                      error)) {
            failure = { ErrorCode::TokenizeFailed, error };
            return false;
        }
        request.text = std::string();  // the tokens are what is used from here
        if (request.prompt.empty()) {
            failure = { ErrorCode::InvalidArgument, "the prompt is empty (no tokens)" };
            return false;
        }
    }
    const size_t n_ctx_seq = llama_n_ctx_seq(context_.ctx);
    if (request.prompt.size() > n_ctx_seq) {
        failure = { ErrorCode::ContextOverflow, "the prompt has " + std::to_string(request.prompt.size()) +
                                                    " tokens, more than the context holds (" +
                                                    std::to_string(n_ctx_seq) + "); load with a larger contextSize" };
        return false;
    }
    return true;
}

void Engine::Admit(Arrival arrival) {
    GenerationRequest & request = *arrival.second;
    NativeFailure failure;
    bool ready = false;
    try {
        // A recurrent state cannot drop the middle of a sequence, though its positions move.
        const llama_model * model = context_.model->model;
        if (request.context_shift && (llama_model_is_recurrent(model) || llama_model_is_hybrid(model) ||
                                      !llama_memory_can_shift(llama_get_memory(context_.ctx)))) {
            failure = {
                ErrorCode::Unsupported,
                "this model's memory cannot shift (a recurrent or hybrid model): generate without contextShift"
            };
        } else if (PreparePrompt(request, failure)) {
            CompleteLogitBias(request.sampling, *context_.model, request.ignore_eos);
            request.chain = BuildSamplerChain(request.sampling, *context_.model, failure, &request.grammar);
            ready = request.chain != nullptr;
            if (ready && request.sampling.TracksReasoning()) {
                request.reasoning = BuildReasoningBudget(request.sampling, *context_.model);
            }
        }
    } catch (const std::exception & e) {
        failure = { ErrorCode::NativeError, std::string("llama.cpp raised: ") + e.what() };
    } catch (...) {
        failure = { ErrorCode::NativeError, "llama.cpp raised an unknown exception" };
    }
    if (!ready) {
        Reject(arrival.first, request, failure);
        return;
    }
    size_t best_common = 0;
    Slot & slot = *PickSlot(request.affinity, request.prompt, best_common);
    const std::vector<llama_token> & prompt = request.prompt;
    slot.id = arrival.first;
    slot.owner = request.affinity;
    slot.request = std::move(arrival.second);
    slot.admitted = Clock::now();
    slot.evaluated = false;
    // Keep the common prefix, but evaluate at least the last prompt token: sampling starts
    // from its logits.
    size_t keep = std::min(best_common, prompt.size() - 1);
    if (!llama_memory_seq_rm(llama_get_memory(context_.ctx), slot.seq, static_cast<llama_pos>(keep), -1)) {
        ClearSequence(slot);  // a memory that cannot drop a tail (recurrent models): start over
        keep = 0;
    }
    if (!slot.draft_synced) {
        ClearSequence(slot);  // the draft model's memory lost this sequence: rebuild both
        slot.draft_synced = true;
        keep = 0;
    } else {
        TrimDraft(slot, keep);
    }
    slot.cached.resize(keep);
    slot.prompt_done = keep;
    slot.reused = keep;
    if (context_.speculation) {
        common_speculative_begin(context_.speculation->spec, slot.seq, prompt);
    }
    // Context shift keeps BOS and `shift_keep` tokens after it, as llama-completion's --keep.
    const bool bos = prompt.front() == llama_vocab_bos(context_.model->vocab);
    slot.shift_keep = std::min(static_cast<size_t>(slot.request->shift_keep) + (bos ? 1 : 0), prompt.size());
    slot.draft_limit = SIZE_MAX;
    slot.shifted = false;
}

Engine::Slot * Engine::PickSlot(uint64_t affinity, const std::vector<llama_token> & prompt, size_t & common_out) {
    Slot * best = nullptr;
    size_t best_common = 0;
    auto rank = [&](const Slot & s) { return affinity != 0 && s.owner == affinity ? 2 : (s.owner == 0 ? 1 : 0); };
    for (auto & candidate : slots_) {
        if (candidate->Busy()) continue;
        const std::vector<llama_token> & cached = candidate->cached;
        size_t common = 0;
        while (common < cached.size() && common < prompt.size() && cached[common] == prompt[common]) ++common;
        bool better = best == nullptr;
        if (!better) {
            const int r = rank(*candidate);
            const int b = rank(*best);
            // A session's own sequence first; then a sequence no session owns, and only then another
            // session's (taking it costs that session its conversation's memory, more than a shared
            // prefix saves); among equals the longest shared prefix, then the least recently used.
            if (r != b) {
                better = r > b;
            } else if (common != best_common) {
                better = common > best_common;
            } else {
                better = candidate->last_used < best->last_used;
            }
        }
        if (better) {
            best = candidate.get();
            best_common = common;
        }
    }
    common_out = best_common;
    return best;
}

void Engine::RunSequenceOp(Arrival arrival) {
    GenerationRequest & request = *arrival.second;
    EngineEvent event;
    event.id = arrival.first;
    event.done = true;
    event.sequence_op = true;
    llama_context * ctx = context_.ctx;
    const Speculation * speculation = context_.speculation.get();
    llama_context * draft_ctx = speculation != nullptr ? speculation->draft_ctx : nullptr;
    auto fail = [&](ErrorCode code, std::string message) {
        event.failed = true;
        event.failure = { code, std::move(message) };
    };
    try {
        if (request.op == SequenceOp::Save) {
            Slot * owned = nullptr;
            for (auto & slot : slots_) {
                if (slot->owner == request.affinity && !slot->Busy()) owned = slot.get();
            }
            // A sequence another request took meanwhile has nothing of the session: its file then
            // holds the messages alone.
            if (owned != nullptr && !owned->cached.empty()) {
                event.state.resize(llama_state_seq_get_size(ctx, owned->seq));
                const size_t written =
                    llama_state_seq_get_data(ctx, event.state.data(), event.state.size(), owned->seq);
                event.state.resize(written);
                if (written == 0) {
                    fail(ErrorCode::NativeError, "llama.cpp could not read the sequence's memory");
                } else if (draft_ctx != nullptr && owned->draft_synced) {
                    event.draft_state.resize(llama_state_seq_get_size(draft_ctx, owned->seq));
                    event.draft_state.resize(llama_state_seq_get_data(draft_ctx, event.draft_state.data(),
                                                                      event.draft_state.size(), owned->seq));
                }
                if (!event.failed) event.tokens = owned->cached;
            }
        } else {
            size_t common = 0;
            Slot & slot = *PickSlot(request.affinity, request.prompt, common);
            ClearSequence(slot);
            slot.owner = request.affinity;
            slot.last_used = ++clock_;
            const size_t n_ctx_seq = llama_n_ctx_seq(ctx);
            llama_memory_t memory = llama_get_memory(ctx);
            if (request.prompt.size() > n_ctx_seq) {
                fail(ErrorCode::InvalidSessionFile, "the session holds " + std::to_string(request.prompt.size()) +
                                                        " tokens, more than the context's sequences hold (" +
                                                        std::to_string(n_ctx_seq) + ")");
            } else if (llama_state_seq_set_data(ctx, request.state.data(), request.state.size(), slot.seq) !=
                           request.state.size() ||
                       static_cast<size_t>(llama_memory_seq_pos_max(memory, slot.seq) + 1) != request.prompt.size()) {
                ClearSequence(slot);
                fail(ErrorCode::InvalidSessionFile,
                     "llama.cpp could not restore the session's memory into this context (saved from a model "
                     "loaded with other sequences, or other context options?)");
            } else {
                slot.cached = request.prompt;
                slot.draft_synced = true;
                if (draft_ctx != nullptr &&
                    (request.draft_state.empty() ||
                     llama_state_seq_set_data(draft_ctx, request.draft_state.data(), request.draft_state.size(),
                                              slot.seq) != request.draft_state.size())) {
                    // The draft model's memory is rebuilt with the sequence's next request.
                    llama_memory_seq_rm(llama_get_memory(draft_ctx), slot.seq, -1, -1);
                    slot.draft_synced = false;
                }
                event.tokens = slot.cached;
            }
        }
    } catch (const std::exception & e) {
        fail(ErrorCode::NativeError, std::string("llama.cpp raised: ") + e.what());
    }
    if (context_.model->RpcLost()) {
        // What was read from a failed server is zeros, and what was written did not arrive.
        event.state.clear();
        event.draft_state.clear();
        event.tokens.clear();
        fail(ErrorCode::RpcFailed, context_.model->RpcLostMessage());
    }
    listener_->Deliver(std::move(event));
}

bool Engine::ShiftContext(Slot & slot) {
    // As llama-completion: drop the first half of what follows the kept tokens, move the rest down.
    const size_t n_past = slot.cached.size();
    const size_t n_discard = (n_past - std::min(slot.shift_keep, n_past)) / 2;
    if (n_discard == 0) {
        return false;
    }
    llama_memory_t memory = llama_get_memory(context_.ctx);
    const auto keep = static_cast<llama_pos>(slot.shift_keep);
    const auto discard = static_cast<llama_pos>(n_discard);
    if (!llama_memory_seq_rm(memory, slot.seq, keep, keep + discard)) {
        return false;
    }
    llama_memory_seq_add(memory, slot.seq, keep + discard, static_cast<llama_pos>(n_past), -discard);
    if (llama_memory_t draft = DraftMemory(); draft != nullptr && slot.draft_synced) {
        if (llama_memory_seq_rm(draft, slot.seq, keep, keep + discard)) {
            llama_memory_seq_add(draft, slot.seq, keep + discard, static_cast<llama_pos>(n_past), -discard);
        } else {
            llama_memory_seq_rm(draft, slot.seq, -1, -1);
            slot.draft_synced = false;
        }
    }
    slot.cached.erase(slot.cached.begin() + static_cast<std::ptrdiff_t>(slot.shift_keep),
                      slot.cached.begin() + static_cast<std::ptrdiff_t>(slot.shift_keep + n_discard));
    slot.shifted = true;
    return true;
}

void Engine::Reject(uint64_t id, const GenerationRequest & request, const NativeFailure & failure) {
    EngineEvent event;
    event.id = id;
    event.done = true;
    event.failed = true;
    event.failure = failure;
    event.prompt_tokens = request.prompt.size();
    listener_->Deliver(std::move(event));
}

void Engine::Step() {
    llama_context * ctx = context_.ctx;
    const auto n_batch = static_cast<size_t>(llama_n_batch(ctx));
    const size_t n_ctx_seq = llama_n_ctx_seq(ctx);
    batch_.n_tokens = 0;
    batch_requests_.clear();
    auto add = [&](Slot & slot, llama_token token, bool logits) {
        const int32_t i = batch_.n_tokens++;
        batch_.token[i] = token;
        batch_.pos[i] = static_cast<llama_pos>(slot.cached.size());
        batch_.n_seq_id[i] = 1;
        batch_.seq_id[i][0] = slot.seq;
        batch_.logits[i] = logits;
        slot.cached.push_back(token);
        if (logits) slot.batch_index = i;
    };

    if (context_.speculation) {
        Draft(n_batch, n_ctx_seq);
    }
    // Generating slots first (the next token each, and its draft), then prompt chunks in the space left.
    for (auto & slot : slots_) {
        slot->batch_index = -1;
        if (slot->Busy() && slot->next != LLAMA_TOKEN_NULL && static_cast<size_t>(batch_.n_tokens) < n_batch) {
            const int32_t first = batch_.n_tokens;
            add(*slot, slot->next, true);
            slot->next = LLAMA_TOKEN_NULL;
            slot->draft.resize(std::min(slot->draft.size(), n_batch - static_cast<size_t>(batch_.n_tokens)));
            for (llama_token token : slot->draft) {
                add(*slot, token, true);
            }
            slot->batch_index = first;  // the next token's logits, then the draft's in order
            batch_requests_.push_back(slot->request.get());
        }
    }
    for (auto & slot : slots_) {
        if (!slot->Busy() || slot->prompt_done >= slot->request->prompt.size()) continue;
        const std::vector<llama_token> & prompt = slot->request->prompt;
        bool added = false;
        while (slot->prompt_done < prompt.size() && static_cast<size_t>(batch_.n_tokens) < n_batch) {
            const size_t i = slot->prompt_done++;
            add(*slot, prompt[i], i + 1 == prompt.size());
            added = true;
        }
        if (added) batch_requests_.push_back(slot->request.get());
    }
    if (batch_.n_tokens == 0) {
        return;
    }

    LogCapture log;
    in_batch_.store(true, std::memory_order_release);
    const int32_t status = llama_decode(ctx, batch_);
    // With layers on RPC servers, the decode's remote part runs behind it: wait for it, then see
    // whether every connection held (a failed one completes with zeros instead of aborting).
    bool rpc_lost = false;
    if (!context_.model->rpc_endpoints.empty()) {
        if (status == 0) llama_synchronize(ctx);
        rpc_lost = context_.model->RpcLost();
    }
    if (status == 0 && !rpc_lost && DraftMemory() != nullptr) {
        MirrorOnDraft();
    }
    in_batch_.store(false, std::memory_order_release);
    const auto decoded = Clock::now();

    if (status != 0 || rpc_lost) {
        if (status == 2 || rpc_lost) {
            log.Discard();  // llama.cpp reports the abort we asked for as an error
        }
        // Aborted (dispose, or every request in the batch aborted) or failed: the requests in this
        // batch end, and their sequences are cleared (a failed decode may leave part of it behind).
        // A lost RPC server ends every request of the context: its memory is gone.
        const bool disposed = context_.disposed.load();
        NativeFailure failure{ disposed   ? ErrorCode::Disposed
                               : rpc_lost ? ErrorCode::RpcFailed
                                          : (status == 1 ? ErrorCode::ContextOverflow : ErrorCode::DecodeFailed),
                               disposed   ? std::string("the context was disposed during generation")
                               : rpc_lost ? context_.model->RpcLostMessage()
                                          : log.Describe("llama_decode failed with status " + std::to_string(status)) };
        for (auto & slot : slots_) {
            if (!slot->Busy() || (!rpc_lost && std::find(batch_requests_.begin(), batch_requests_.end(),
                                                         slot->request.get()) == batch_requests_.end())) {
                continue;
            }
            ClearSequence(*slot);
            const bool aborted = status == 2 && !rpc_lost && !disposed && slot->request->abort->load();
            Finish(*slot, StopReason::Abort, aborted ? nullptr : &failure);
        }
        return;
    }

    for (auto & slot : slots_) {
        if (!slot->Busy() || slot->batch_index < 0) continue;
        if (!slot->evaluated) {
            slot->evaluated = true;
            slot->prompt_finished = decoded;
        }
        if (slot->request->max_tokens == 0) {
            Finish(*slot, StopReason::MaxTokens, nullptr);
            continue;
        }
        Verify(*slot);
        if (!slot->Busy() || slot->next == LLAMA_TOKEN_NULL) continue;
        if (slot->request->context_shift) {
            // llama-completion shifts before the next token would take the context's last cell.
            if (slot->cached.size() + 1 >= n_ctx_seq && !ShiftContext(*slot)) {
                Finish(*slot, StopReason::ContextFull, nullptr);
            }
        } else if (slot->cached.size() >= n_ctx_seq) {
            Finish(*slot, StopReason::ContextFull, nullptr);
        }
    }
}

void Engine::Draft(size_t n_batch, size_t n_ctx_seq) {
    Speculation & speculation = *context_.speculation;
    std::vector<Slot *> generating;
    for (auto & slot : slots_) {
        slot->draft.clear();
        if (slot->Busy() && slot->next != LLAMA_TOKEN_NULL) {
            generating.push_back(slot.get());
        }
    }
    if (generating.empty()) {
        return;
    }
    // Each generating slot gets an equal share of the batch for its draft, and drafts no further
    // than it can go: short of the context's end (so that a context shift or a full context comes
    // at the same token as without drafts) and of its token limit.
    const size_t share = n_batch > generating.size() ? (n_batch - generating.size()) / generating.size() : 0;
    const auto most = static_cast<size_t>(std::max(0, common_speculative_n_max(speculation.spec)));
    batch_requests_.clear();
    for (Slot * slot : generating) {
        common_speculative_draft_params & params = common_speculative_get_draft_params(speculation.spec, slot->seq);
        params.drafting = false;
        const size_t used = slot->cached.size() + 3;
        const size_t room = n_ctx_seq > used ? n_ctx_seq - used : 0;
        const size_t left = static_cast<size_t>(slot->request->max_tokens) - slot->generated.size();
        const size_t n_max = std::min({ most, share, room, left > 0 ? left - 1 : 0, slot->draft_limit });
        if (n_max == 0 || !slot->draft_synced) {
            continue;
        }
        params.drafting = true;
        params.n_max = static_cast<int32_t>(n_max);
        params.pos0 = static_cast<llama_pos>(slot->cached.size());
        params.id_last = slot->next;
        params.prompt = &slot->cached;
        params.result = &slot->draft;
        batch_requests_.push_back(slot->request.get());
    }
    if (batch_requests_.empty()) {
        return;
    }
    in_batch_.store(true, std::memory_order_release);  // the draft model's decodes can be aborted too
    common_speculative_draft(speculation.spec);
    in_batch_.store(false, std::memory_order_release);
    const ModelState & model = *context_.model;
    for (Slot * slot : generating) {
        // What the draft model evaluated while drafting goes; the verified batch is mirrored after.
        TrimDraft(*slot, slot->cached.size());
        // A draft model's vocabulary may be a little larger than the target's.
        auto invalid = std::find_if(slot->draft.begin(), slot->draft.end(),
                                    [&](llama_token token) { return !model.ValidToken(token); });
        slot->draft.erase(invalid, slot->draft.end());
        slot->draft_tokens += slot->draft.size();
    }
}

void Engine::MirrorOnDraft() {
    Speculation & speculation = *context_.speculation;
    const bool all_synced = std::all_of(slots_.begin(), slots_.end(), [](const auto & s) { return s->draft_synced; });
    const llama_batch * batch = &batch_;
    if (!all_synced) {
        draft_batch_.n_tokens = 0;
        for (int32_t i = 0; i < batch_.n_tokens; ++i) {
            if (!slots_[static_cast<size_t>(batch_.seq_id[i][0])]->draft_synced) continue;
            const int32_t j = draft_batch_.n_tokens++;
            draft_batch_.token[j] = batch_.token[i];
            draft_batch_.pos[j] = batch_.pos[i];
            draft_batch_.n_seq_id[j] = 1;
            draft_batch_.seq_id[j][0] = batch_.seq_id[i][0];
            draft_batch_.logits[j] = false;
        }
        if (draft_batch_.n_tokens == 0) {
            return;
        }
        batch = &draft_batch_;
    }
    if (common_speculative_process(speculation.spec, *batch)) {
        return;
    }
    // The draft context failed this batch (a token it does not have, no room, an abort): the
    // sequences in it stop drafting, and are rebuilt when their slot takes its next request.
    for (int32_t i = 0; i < batch->n_tokens; ++i) {
        Slot & slot = *slots_[static_cast<size_t>(batch->seq_id[i][0])];
        if (slot.draft_synced) {
            llama_memory_seq_rm(DraftMemory(), slot.seq, -1, -1);
            slot.draft_synced = false;
        }
    }
}

void Engine::Verify(Slot & slot) {
    const size_t n_draft = slot.draft.size();
    const size_t base = slot.cached.size() - n_draft;  // the memory up to and including `next`
    const int32_t first = slot.batch_index;            // where the next token's logits are
    size_t accepted = 0;
    llama_token token = LLAMA_TOKEN_NULL;
    for (size_t i = 0;; ++i) {
        slot.keep = base + i;  // the tokens whose logits this sample reads, should the request end here
        token = Emit(slot, first + static_cast<int32_t>(i), i < n_draft ? slot.draft[i] : LLAMA_TOKEN_NULL);
        if (token == LLAMA_TOKEN_NULL || i >= n_draft || token != slot.draft[i]) {
            break;
        }
        ++accepted;  // the drafted token is what was sampled: its logits are next in the batch
    }
    if (n_draft > 0) {
        common_speculative_accept(context_.speculation->spec, slot.seq, static_cast<uint16_t>(accepted));
        // A draft the model took whole may be longer next time; one it rejected part of is cut to
        // what it took and one more: a rejected token costs a batch row and saves nothing.
        slot.draft_limit = accepted == n_draft ? std::max<size_t>(2 * n_draft, 2) : accepted + 1;
    }
    if (token == LLAMA_TOKEN_NULL) {
        return;  // Finish dropped the rest of the draft
    }
    if (slot.cached.size() > slot.keep) {
        RemoveTail(slot, slot.keep);
    }
    slot.keep = SIZE_MAX;
    slot.draft.clear();
    slot.next = token;
}

llama_token Engine::Emit(Slot & slot, int32_t index, llama_token drafted) {
    slot.batch_index = index;
    GenerationRequest & request = *slot.request;
    const ModelState & model = *context_.model;
    std::string error;
    Utf8Guard utf8;
    // A lazy grammar leaves free text before its trigger as the model writes it.
    if (request.grammar != nullptr && !request.sampling.grammar_lazy) {
        utf8.pieces = &model.Pieces();
        utf8.pending = slot.text.substr(CompleteUtf8Prefix(slot.text));
    }
    llama_token token = LLAMA_TOKEN_NULL;
    try {
        token = SampleToken(request.chain, context_.ctx, slot.batch_index, model.n_vocab, scratch_, error,
                            request.grammar, request.sampling.PureGreedy() ? &request.sampling : nullptr,
                            request.sampling.grammar_lazy ? nullptr : &utf8, request.reasoning,
                            request.sampling.grammar_lazy);
    } catch (const std::exception & e) {
        // llama.cpp's grammar found the text it was triggered on impossible to continue.
        error = std::string("the grammar could not go on: ") + e.what();
    }
    if (token == LLAMA_TOKEN_NULL) {
        NativeFailure failure{ ErrorCode::SamplerFailed, error };
        Finish(slot, StopReason::Abort, &failure);
        return LLAMA_TOKEN_NULL;
    }
    if (llama_vocab_is_eog(model.vocab, token)) {
        Finish(slot, StopReason::Eog, nullptr);
        return LLAMA_TOKEN_NULL;
    }
    slot.generated.push_back(token);
    if (token == drafted) {
        slot.accepted_tokens++;  // counted now: the request may end with this very token
    }
    if (request.logprobs >= 0) {
        slot.logprobs.push_back(ComputeLogprobs(llama_get_logits_ith(context_.ctx, slot.batch_index), model.n_vocab,
                                                token, request.logprobs, model.vocab, request.special));
    }
    const size_t before = slot.text.size();
    const bool special =
        request.special || std::binary_search(request.preserved.begin(), request.preserved.end(), token);
    if (!AppendPiece(model.vocab, token, special, slot.text)) {
        NativeFailure failure{ ErrorCode::NativeError, "llama.cpp could not render token " + std::to_string(token) };
        Finish(slot, StopReason::Abort, &failure);
        return LLAMA_TOKEN_NULL;
    }
    const size_t stop_at = request.stops.Find(slot.text, before);
    if (stop_at != std::string::npos) {
        slot.cut = stop_at;
    }
    if (request.stream) {
        // Stream what can no longer change: not a possible start of a stop string, whole characters.
        size_t end = stop_at != std::string::npos ? stop_at : slot.text.size() - request.stops.PartialSuffix(slot.text);
        end = std::max(end, slot.emitted);
        const size_t complete = slot.emitted + CompleteUtf8Prefix(slot.text.substr(slot.emitted, end - slot.emitted));
        EngineEvent event;
        event.id = slot.id;
        event.token = token;
        event.text = slot.text.substr(slot.emitted, complete - slot.emitted);
        if (request.logprobs >= 0) {
            event.has_logprob = true;
            event.logprob = slot.logprobs.back();
        }
        slot.emitted = complete;
        listener_->Deliver(std::move(event));
    }
    if (stop_at != std::string::npos) {
        Finish(slot, StopReason::Stop, nullptr);
        return LLAMA_TOKEN_NULL;
    }
    if (slot.generated.size() >= static_cast<size_t>(request.max_tokens)) {
        Finish(slot, StopReason::MaxTokens, nullptr);
        return LLAMA_TOKEN_NULL;
    }
    return token;
}

void Engine::Finish(Slot & slot, StopReason reason, const NativeFailure * failure) {
    EngineEvent event;
    event.id = slot.id;
    event.done = true;
    const auto now = Clock::now();
    if (failure != nullptr) {
        event.failed = true;
        event.failure = *failure;
    } else {
        event.stop_reason = reason;
        event.text = slot.cut == std::string::npos ? slot.text : slot.text.substr(0, slot.cut);
        if (slot.request->stream && slot.emitted < event.text.size()) {
            // The tail held back for a possible stop string or a split character.
            EngineEvent tail;
            tail.id = slot.id;
            tail.token = slot.generated.empty() ? LLAMA_TOKEN_NULL : slot.generated.back();
            tail.text = event.text.substr(slot.emitted);
            listener_->Deliver(std::move(tail));
        }
        event.tokens = std::move(slot.generated);
        event.has_logprob = slot.request->logprobs >= 0;
        event.logprobs = std::move(slot.logprobs);
    }
    event.prompt_tokens = slot.request->prompt.size();
    event.reused_tokens = slot.reused;
    event.prompt_ms = Milliseconds(slot.admitted, slot.evaluated ? slot.prompt_finished : now);
    event.generate_ms = slot.evaluated ? Milliseconds(slot.prompt_finished, now) : 0;
    event.draft_tokens = slot.draft_tokens;
    event.accepted_tokens = slot.accepted_tokens;
    listener_->Deliver(std::move(event));

    if (slot.cached.size() > slot.keep) {
        RemoveTail(slot, slot.keep);  // the draft after the last token sampled
    }
    if (slot.shifted) {
        // Shifted cells are not what evaluating those tokens afresh gives: no later prompt reuses them.
        RemoveTail(slot, std::min(slot.shift_keep, slot.cached.size()));
        slot.shifted = false;
    }
    slot.keep = SIZE_MAX;
    slot.draft.clear();
    slot.draft_tokens = 0;
    slot.accepted_tokens = 0;
    slot.request.reset();
    slot.generated.clear();
    slot.logprobs.clear();
    slot.text.clear();
    slot.emitted = 0;
    slot.cut = std::string::npos;
    slot.next = LLAMA_TOKEN_NULL;
    slot.batch_index = -1;
    slot.last_used = ++clock_;
}

void Engine::ClearSequence(Slot & slot) {
    llama_memory_seq_rm(llama_get_memory(context_.ctx), slot.seq, -1, -1);
    if (llama_memory_t draft = DraftMemory(); draft != nullptr) {
        llama_memory_seq_rm(draft, slot.seq, -1, -1);
    }
    slot.cached.clear();
}

void Engine::RemoveTail(Slot & slot, size_t keep) {
    const auto from = static_cast<llama_pos>(keep);
    if (!llama_memory_seq_rm(llama_get_memory(context_.ctx), slot.seq, from, -1)) {
        ClearSequence(slot);  // cannot happen for the memories speculation and shifts accept; stay consistent
        return;
    }
    TrimDraft(slot, keep);
    slot.cached.resize(keep);
}

llama_memory_t Engine::DraftMemory() const {
    const Speculation * speculation = context_.speculation.get();
    return speculation != nullptr && speculation->draft_ctx != nullptr ? llama_get_memory(speculation->draft_ctx)
                                                                       : nullptr;
}

void Engine::TrimDraft(Slot & slot, size_t keep) {
    llama_memory_t draft = DraftMemory();
    if (draft == nullptr || !slot.draft_synced) {
        return;
    }
    if (!llama_memory_seq_rm(draft, slot.seq, static_cast<llama_pos>(keep), -1)) {
        // The draft model's memory no longer matches the target's: this sequence stops drafting.
        llama_memory_seq_rm(draft, slot.seq, -1, -1);
        slot.draft_synced = false;
    }
}

void Engine::ClearMemory() {
    llama_memory_clear(llama_get_memory(context_.ctx), true);
    if (llama_memory_t draft = DraftMemory(); draft != nullptr) {
        llama_memory_clear(draft, true);
    }
    for (auto & slot : slots_) {
        slot->cached.clear();
        slot->draft_synced = true;
    }
}

}  // namespace llama_napi
