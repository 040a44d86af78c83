// Batched decoding shared by context.decode() and context.embed(): feeds tokens to llama_decode in
// batches of the context's batch size, after the sequence's last position. (generate() builds its
// own batches: core/Engine.h.) Any thread that holds the context's lease.
#pragma once

#include <string>
#include <vector>

#include "core/Errors.h"
#include "llama.h"

namespace llama_napi {

struct ContextState;

struct DecodeOutcome {
    bool ok = true;
    bool aborted = false;
    ErrorCode code = ErrorCode::DecodeFailed;
    std::string message;
};

/** Decodes `tokens` into sequence `seq_id`; logits for the last token (or all when
 *  `logits_all`). Checks the context has room first (CONTEXT_OVERFLOW). `batch` is reused. */
DecodeOutcome DecodeTokens(ContextState & context, const llama_token * tokens, size_t count, llama_seq_id seq_id,
                           bool logits_all, llama_batch & batch);

}  // namespace llama_napi
