// Batched decoding (see BatchDecode.h).
#include "core/BatchDecode.h"

#include <algorithm>

#include "core/ContextState.h"
#include "core/ModelState.h"
#include "runtime/Log.h"

namespace llama_napi {

DecodeOutcome DecodeTokens(ContextState & context, const llama_token * tokens, size_t count, llama_seq_id seq_id,
                           bool logits_all, llama_batch & batch) {
    DecodeOutcome outcome;
    llama_context * ctx = context.ctx;
    const llama_pos start = llama_memory_seq_pos_max(llama_get_memory(ctx), seq_id) + 1;
    const size_t n_ctx = llama_n_ctx_seq(ctx);
    if (static_cast<size_t>(start) + count > n_ctx) {
        outcome.ok = false;
        outcome.code = ErrorCode::ContextOverflow;
        outcome.message = std::to_string(count) + " tokens after position " + std::to_string(start) +
                          " do not fit in the context of " + std::to_string(n_ctx) + " tokens";
        return outcome;
    }
    const size_t n_batch = llama_n_batch(ctx);
    context.last_batch_size = 0;
    LogCapture log;
    for (size_t offset = 0; offset < count; offset += n_batch) {
        if (context.ShouldStop()) {
            outcome.ok = false;
            outcome.aborted = true;
            return outcome;
        }
        const size_t n = std::min(n_batch, count - offset);
        batch.n_tokens = static_cast<int32_t>(n);
        for (size_t i = 0; i < n; ++i) {
            batch.token[i] = tokens[offset + i];
            batch.pos[i] = start + static_cast<llama_pos>(offset + i);
            batch.n_seq_id[i] = 1;
            batch.seq_id[i][0] = seq_id;
            batch.logits[i] = logits_all || offset + i == count - 1;
        }
        const int32_t status = llama_decode(ctx, batch);
        if (!context.model->rpc_endpoints.empty()) {
            if (status == 0) llama_synchronize(ctx);
            if (context.model->RpcLost()) {
                log.Discard();
                outcome.ok = false;
                outcome.code = ErrorCode::RpcFailed;
                outcome.message = context.model->RpcLostMessage();
                return outcome;
            }
        }
        if (status == 2 || (status != 0 && context.ShouldStop())) {
            log.Discard();  // llama.cpp reports the abort we asked for as an error
            outcome.ok = false;
            outcome.aborted = true;
            return outcome;
        }
        if (status != 0) {
            outcome.ok = false;
            outcome.code = status == 1 ? ErrorCode::ContextOverflow : ErrorCode::DecodeFailed;
            outcome.message = log.Describe("llama_decode failed with status " + std::to_string(status));
            return outcome;
        }
        if (offset + n == count) {
            context.last_batch_size = static_cast<int32_t>(n);
            context.last_logits_all = logits_all;
        }
    }
    return outcome;
}

}  // namespace llama_napi
