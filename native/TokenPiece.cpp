// Token pieces (see TokenPiece.h).
#include "TokenPiece.h"

namespace llama_napi {

bool AppendPiece(const llama_vocab * vocab, llama_token token, bool special, std::string & out) {
    char buffer[64];
    int32_t n = llama_token_to_piece(vocab, token, buffer, sizeof(buffer), 0, special);
    if (n >= 0) {
        out.append(buffer, static_cast<size_t>(n));
        return true;
    }
    const size_t start = out.size();
    out.resize(start + static_cast<size_t>(-n));
    n = llama_token_to_piece(vocab, token, out.data() + start, -n, 0, special);
    if (n < 0) {
        out.resize(start);
        return false;
    }
    out.resize(start + static_cast<size_t>(n));
    return true;
}

}  // namespace llama_napi
