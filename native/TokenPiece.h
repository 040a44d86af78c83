// The raw bytes of one token's piece (llama_token_to_piece, growing the buffer when short).
// Thread-agnostic: used by workers.
#pragma once

#include <string>

#include "llama.h"

namespace llama_napi {

/** Appends the piece of `token` to `out`; returns false if llama.cpp refuses the token. */
bool AppendPiece(const llama_vocab * vocab, llama_token token, bool special, std::string & out);

}  // namespace llama_napi
