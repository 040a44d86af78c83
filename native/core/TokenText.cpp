// Tokenizing, token pieces and UTF-8 boundaries (see TokenText.h).
#include "core/TokenText.h"

#include <algorithm>
#include <climits>

namespace llama_napi {

bool Tokenize(const llama_vocab * vocab, const std::string & text, bool add_special, bool parse_special,
              std::vector<llama_token> & tokens, std::string & error) {
    if (text.size() > static_cast<size_t>(INT32_MAX)) {
        error = "text is too long to tokenize (over 2 GiB)";
        return false;
    }
    const auto length = static_cast<int32_t>(text.size());
    // A first guess that fits most texts (bounded, so a huge text does not reserve gigabytes up
    // front); llama_tokenize returns -needed when it is short.
    tokens.resize(std::min<size_t>(text.size() / 2 + 8, size_t{ 1 } << 22));
    int32_t n = llama_tokenize(vocab, text.data(), length, tokens.data(), static_cast<int32_t>(tokens.size()),
                               add_special, parse_special);
    if (n < 0 && n != INT32_MIN) {
        tokens.resize(static_cast<size_t>(-n));
        n = llama_tokenize(vocab, text.data(), length, tokens.data(), static_cast<int32_t>(tokens.size()), add_special,
                           parse_special);
    }
    if (n < 0) {
        tokens.clear();
        error = "llama.cpp could not tokenize the text (too many tokens)";
        return false;
    }
    tokens.resize(static_cast<size_t>(n));
    return true;
}

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

size_t CompleteUtf8Prefix(const std::string & bytes) {
    const size_t size = bytes.size();
    // Look back at most 3 bytes for the lead byte of a character that is still incomplete.
    for (size_t back = 1; back <= 4 && back <= size; ++back) {
        const unsigned char c = static_cast<unsigned char>(bytes[size - back]);
        if ((c & 0xC0) == 0x80) {
            continue;  // continuation byte: keep looking for the lead
        }
        size_t need = 1;
        if ((c & 0xE0) == 0xC0) need = 2;
        else if ((c & 0xF0) == 0xE0) need = 3;
        else if ((c & 0xF8) == 0xF0) need = 4;
        return back < need ? size - back : size;
    }
    return size;
}

bool Utf8Continues(const std::string & pending, const std::string & piece) {
    // The bytes after a lead byte: how many, and the range of the first (which rules out overlong
    // forms, surrogates and code points past U+10FFFF); later ones are 80..BF.
    int need = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    auto step = [&](unsigned char c) {
        if (need > 0) {
            if (c < low || c > high) return false;
            --need;
            low = 0x80;
            high = 0xBF;
            return true;
        }
        if (c < 0x80) return true;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0) low = 0xA0;
            if (c == 0xED) high = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0) low = 0x90;
            if (c == 0xF4) high = 0x8F;
        } else {
            return false;
        }
        return true;
    };
    for (char c : pending) {
        if (!step(static_cast<unsigned char>(c))) return false;
    }
    for (char c : piece) {
        if (!step(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

}  // namespace llama_napi
