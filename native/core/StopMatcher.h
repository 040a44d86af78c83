// Stop strings over generated text: where the first one starts, and how many trailing bytes
// might still become one (held back from streaming until they cannot). Thread-agnostic.
#pragma once

#include <string>
#include <vector>

namespace llama_napi {

class StopMatcher {
   public:
    StopMatcher() = default;
    explicit StopMatcher(std::vector<std::string> stops);

    /** The byte offset where the earliest stop string occurring in `text` starts, considering only
     *  matches that end after `appended_from`; std::string::npos if none. */
    size_t Find(const std::string & text, size_t appended_from) const;
    /** The number of bytes at the end of `text` that are a proper prefix of some stop string. */
    size_t PartialSuffix(const std::string & text) const;

   private:
    std::vector<std::string> stops_;
    size_t longest_ = 0;
};

}  // namespace llama_napi
