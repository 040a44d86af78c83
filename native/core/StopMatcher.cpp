// Stop-string matching (see StopMatcher.h).
#include "core/StopMatcher.h"

#include <algorithm>

namespace llama_napi {

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
    stops_.erase(std::remove_if(stops_.begin(), stops_.end(), [](const std::string & s) { return s.empty(); }),
                 stops_.end());
    for (const std::string & stop : stops_) {
        longest_ = std::max(longest_, stop.size());
    }
}

size_t StopMatcher::Find(const std::string & text, size_t appended_from) const {
    if (stops_.empty()) {
        return std::string::npos;
    }
    const size_t start = appended_from + 1 > longest_ ? appended_from + 1 - longest_ : 0;
    size_t best = std::string::npos;
    for (const std::string & stop : stops_) {
        const size_t at = text.find(stop, start);
        if (at != std::string::npos && at < best) {
            best = at;
        }
    }
    return best;
}

size_t StopMatcher::PartialSuffix(const std::string & text) const {
    size_t hold = 0;
    for (const std::string & stop : stops_) {
        const size_t most = std::min(stop.size() - 1, text.size());
        for (size_t k = most; k > hold; --k) {
            if (text.compare(text.size() - k, k, stop, 0, k) == 0) {
                hold = k;
                break;
            }
        }
    }
    return hold;
}

}  // namespace llama_napi
