// Between text and tokens: tokenizing a text, the raw bytes of a token's piece, and where a byte
// stream stops ending inside a UTF-8 character. Thread-agnostic (workers and the engine use them).
#pragma once

#include <string>
#include <vector>

#include "llama.h"

namespace llama_napi {

/** Tokenizes `text` into `tokens` (llama_tokenize: count, then fill). False, with `error` set,
 *  when llama.cpp cannot (over 2 GiB of text, or too many tokens). */
bool Tokenize(const llama_vocab * vocab, const std::string & text, bool add_special, bool parse_special,
              std::vector<llama_token> & tokens, std::string & error);

/** Appends the piece of `token` to `out`; returns false if llama.cpp refuses the token. */
bool AppendPiece(const llama_vocab * vocab, llama_token token, bool special, std::string & out);

/** Length of the longest prefix of `bytes` that does not end inside a UTF-8 character
 *  (an invalid byte counts as complete, so nothing is held back forever). */
size_t CompleteUtf8Prefix(const std::string & bytes);

/** Whether `pending` (the incomplete character a valid UTF-8 text ends with, 0–3 bytes) followed by
 *  `piece` is still valid UTF-8, the end possibly inside a character: no stray continuation byte,
 *  no overlong form, surrogate or code point beyond U+10FFFF. */
bool Utf8Continues(const std::string & pending, const std::string & piece);

}  // namespace llama_napi
