// The ranges of numeric options. Generated from lib/limits.ts by `npm run gen:limits`: do not edit.
#pragma once

namespace llama_napi {

/** The range of one option: its name (the JavaScript key), whole numbers only or not, min and max. */
struct OptionLimit {
    const char * name;
    bool integer;
    double min;
    double max;
};

namespace limits {

inline constexpr OptionLimit kGpuLayers{ "gpuLayers", true, -1.0, 2147483647.0 };
inline constexpr OptionLimit kContextSize{ "contextSize", true, 1.0, 16777216.0 };
inline constexpr OptionLimit kBatchSize{ "batchSize", true, 1.0, 16777216.0 };
inline constexpr OptionLimit kUbatchSize{ "ubatchSize", true, 1.0, 16777216.0 };
inline constexpr OptionLimit kThreads{ "threads", true, 1.0, 1024.0 };
inline constexpr OptionLimit kThreadsBatch{ "threadsBatch", true, 1.0, 1024.0 };
inline constexpr OptionLimit kSequences{ "sequences", true, 1.0, 256.0 };
inline constexpr OptionLimit kMaxDraftTokens{ "maxDraftTokens", true, 1.0, 64.0 };
inline constexpr OptionLimit kMaxTokens{ "maxTokens", true, 0.0, 2147483647.0 };
inline constexpr OptionLimit kTemperature{ "temperature", false, 0.0, 1000000.0 };
inline constexpr OptionLimit kTopK{ "topK", true, 0.0, 2147483647.0 };
inline constexpr OptionLimit kTopP{ "topP", false, 0.0, 1.0 };
inline constexpr OptionLimit kMinP{ "minP", false, 0.0, 1.0 };
inline constexpr OptionLimit kTypicalP{ "typicalP", false, 0.0, 1.0 };
inline constexpr OptionLimit kPenaltyLastN{ "penaltyLastN", true, 0.0, 2147483647.0 };
inline constexpr OptionLimit kRepeatPenalty{ "repeatPenalty", false, 0.000001, 1000000.0 };
inline constexpr OptionLimit kFrequencyPenalty{ "frequencyPenalty", false, -1000000.0, 1000000.0 };
inline constexpr OptionLimit kPresencePenalty{ "presencePenalty", false, -1000000.0, 1000000.0 };
inline constexpr OptionLimit kTopNSigma{ "topNSigma", false, 0.0, 1000000.0 };
inline constexpr OptionLimit kDryMultiplier{ "dryMultiplier", false, 0.0, 1000000.0 };
inline constexpr OptionLimit kDryBase{ "dryBase", false, 1.0, 1000000.0 };
inline constexpr OptionLimit kDryAllowedLength{ "dryAllowedLength", true, 0.0, 2147483647.0 };
inline constexpr OptionLimit kDryPenaltyLastN{ "dryPenaltyLastN", true, 0.0, 2147483647.0 };
inline constexpr OptionLimit kXtcProbability{ "xtcProbability", false, 0.0, 1.0 };
inline constexpr OptionLimit kXtcThreshold{ "xtcThreshold", false, 0.0, 1.0 };
inline constexpr OptionLimit kMirostatTau{ "mirostatTau", false, 0.0, 1000000.0 };
inline constexpr OptionLimit kMirostatEta{ "mirostatEta", false, 0.0, 1.0 };
inline constexpr OptionLimit kSeed{ "seed", true, 0.0, 4294967295.0 };
inline constexpr OptionLimit kContextShiftKeep{ "contextShiftKeep", true, 0.0, 2147483647.0 };
inline constexpr OptionLimit kLogprobs{ "logprobs", true, 0.0, 20.0 };

}  // namespace limits

}  // namespace llama_napi
