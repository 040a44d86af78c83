// Context handle: raw operations under a lease, and generation through the engine (see Context.h).
#include "handles/Context.h"

#include <algorithm>

#include <cmath>
#include <string>

#include "core/Engine.h"
#include "core/ModelState.h"
#include "handles/AbortToken.h"
#include "handles/Options.h"
#include "handles/Sampler.h"
#include "js/AddonData.h"
#include "js/Arguments.h"
#include "js/EngineBridge.h"
#include "js/Errors.h"
#include "js/Memory.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

/** Chat sessions' ids: whole numbers a double holds exactly. */
constexpr int64_t kMaxAffinity = (int64_t{ 1 } << 53) - 1;

uint64_t AffinityArgument(Napi::Env env, Napi::Value value) {
    const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : 0.0;
    if (!(number >= 1 && number <= static_cast<double>(kMaxAffinity)) || std::floor(number) != number) {
        Throw(env, ErrorCode::InvalidArgument, "the sequence's owner must be a whole number from 1");
    }
    return static_cast<uint64_t>(number);
}

/** [[adapter id, scale], ...]: adapters this model's loadLora() returned (undefined: none). */
LoraSet ReadLora(Napi::Env env, Napi::Value lora, const ModelState & model) {
    LoraSet set;
    if (lora.IsUndefined()) return set;
    const char * shape = "lora must be an array of [adapter id from loadLora(), scale (a finite number)]";
    if (!lora.IsArray()) Throw(env, ErrorCode::InvalidArgument, shape);
    Napi::Array pairs = lora.As<Napi::Array>();
    for (uint32_t i = 0; i < pairs.Length(); ++i) {
        Napi::Value pair = pairs.Get(i);
        if (!pair.IsArray() || pair.As<Napi::Array>().Length() != 2) Throw(env, ErrorCode::InvalidArgument, shape);
        Napi::Value id = pair.As<Napi::Array>().Get(0u);
        Napi::Value scale = pair.As<Napi::Array>().Get(1u);
        // Only a whole number in range is converted (a cast of NaN or 1e300 is undefined).
        const double number = id.IsNumber() ? id.As<Napi::Number>().DoubleValue() : -1.0;
        llama_adapter_lora * adapter = number >= 0 && number < 2147483648.0 && std::floor(number) == number
                                           ? model.Lora(static_cast<int64_t>(number))
                                           : nullptr;
        if (adapter == nullptr || !scale.IsNumber() || !std::isfinite(scale.As<Napi::Number>().DoubleValue())) {
            Throw(env, ErrorCode::InvalidArgument, shape);
        }
        set.adapters.push_back(adapter);
        set.scales.push_back(static_cast<float>(scale.As<Napi::Number>().DoubleValue()));
    }
    return set;
}

}  // namespace

Napi::Function Context::Define(Napi::Env env) {
    return DefineClass(env, kClassName,
                       {
                           InstanceMethod<&Context::Decode>("decode"),
                           InstanceMethod<&Context::Sample>("sample"),
                           InstanceMethod<&Context::Generate>("generate"),
                           InstanceMethod<&Context::Embed>("embed"),
                           InstanceMethod<&Context::SaveSequence>("saveSequence"),
                           InstanceMethod<&Context::LoadSequence>("loadSequence"),
                           InstanceMethod<&Context::ReleaseSequence>("releaseSequence"),
                           InstanceMethod<&Context::MemoryClear>("memoryClear"),
                           InstanceMethod<&Context::MemorySeqRemove>("memorySeqRemove"),
                           InstanceMethod<&Context::MemorySeqPosMax>("memorySeqPosMax"),
                           InstanceMethod<&Context::Info>("info"),
                           InstanceMethod<&Context::Perf>("perf"),
                           InstanceMethod<&Context::Dispose>("dispose"),
                           InstanceAccessor<&Context::Disposed>("disposed"),
                       });
}

Napi::Object Context::Wrap(Napi::Env env, std::shared_ptr<ContextState> state) {
    return NewInstance(AddonData::Of(env).context, std::move(state));
}

Context::Context(const Napi::CallbackInfo & info) : Handle(info) {
    if (!state_) {
        Throw(info.Env(), ErrorCode::InvalidArgument, "a Context is created by model.createContext(), not with new");
    }
}

std::shared_ptr<ContextState> Context::LiveOrThrow(Napi::Env env) const {
    if (!state_ || state_->disposed.load()) {
        Throw(env, ErrorCode::Disposed, "the context has been disposed");
    }
    if (state_->model->RpcLost()) {
        Throw(env, ErrorCode::RpcFailed, state_->model->RpcLostMessage());
    }
    return state_;
}

llama_context * Context::IdleOrThrow(Napi::Env env) const {
    std::shared_ptr<ContextState> state = LiveOrThrow(env);
    // Acquiring and releasing a lease at once: the same checks, and the engine forgets its cache.
    AcquireOrThrow(env, state, nullptr).Release();
    return state->ctx;
}

Napi::Value Context::Decode(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ContextState> state = LiveOrThrow(env);
        DecodeRequest request;
        request.tokens = ReadTokens(env, info[0], *state->model, "tokens");
        Napi::Object options = OptionsObject(env, info[1], "options");
        request.seq_id =
            static_cast<llama_seq_id>(ReadInteger(env, options, "seqId", 0, 0, llama_n_seq_max(state->ctx) - 1));
        request.logits_all = ReadBool(env, options, "logitsAll", false);
        AbortFlag abort = AbortToken::FlagOf(env, info[2]);
        if (request.tokens.empty()) {
            Throw(env, ErrorCode::InvalidArgument, "tokens must not be empty");
        }
        Lease<ContextState> lease = AcquireOrThrow(env, state, abort.get());
        return StartDecode(env, std::move(lease), std::move(request), std::move(abort));
    });
}

Napi::Value Context::Sample(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ContextState> state = LiveOrThrow(env);
        std::shared_ptr<SamplerState> sampler = Sampler::StateOf(env, info[0], "sampler");
        if (sampler->model != state->model) {
            Throw(env, ErrorCode::InvalidArgument, "the sampler belongs to another model");
        }
        Napi::Object options = OptionsObject(env, info[1], "options");
        int32_t index = static_cast<int32_t>(ReadInteger(env, options, "index", -1, -1, INT32_MAX));
        Lease<ContextState> context = AcquireOrThrow(env, state, nullptr);
        if (!state->HasLogits(index)) {
            Throw(env, ErrorCode::InvalidArgument,
                  "no logits at output index " + std::to_string(index) +
                      ": decode first (with logitsAll for an index other than the last)");
        }
        return StartSample(env, std::move(context), AcquireOrThrow(env, std::move(sampler)), index);
    });
}

Napi::Value Context::Generate(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ContextState> state = LiveOrThrow(env);
        Napi::Object options = OptionsObject(env, info[0], "options");
        auto request = std::make_unique<GenerationRequest>();
        // The prompt: text, tokenized by the engine as it admits the request, or token ids.
        Napi::Value prompt = options.Get("prompt");
        if (!prompt.IsUndefined()) {
            if (!options.Get("tokens").IsUndefined()) {
                Throw(env, ErrorCode::InvalidArgument, "give the prompt as prompt (text) or as tokens, not both");
            }
            request->has_text = true;
            request->text = StringArgument(env, prompt, "prompt");
            request->add_special = ReadBool(env, options, "addSpecial", true);
            request->parse_special = ReadBool(env, options, "parseSpecial", true);
        } else {
            request->prompt = ReadTokens(env, options.Get("tokens"), *state->model, "tokens");
            if (request->prompt.empty()) {
                Throw(env, ErrorCode::InvalidArgument, "tokens (the prompt) must not be empty");
            }
        }
        request->max_tokens = static_cast<int32_t>(ReadInteger(env, options, limits::kMaxTokens, INT32_MAX));
        request->special = ReadBool(env, options, "special", false);
        if (!options.Get("preservedTokens").IsUndefined()) {
            request->preserved = ReadTokens(env, options.Get("preservedTokens"), *state->model, "preservedTokens");
            std::sort(request->preserved.begin(), request->preserved.end());
        }
        request->ignore_eos = ReadBool(env, options, "ignoreEos", false);
        request->lora = ReadLora(env, options.Get("lora"), *state->model);
        request->context_shift = ReadBool(env, options, "contextShift", false);
        request->shift_keep =
            static_cast<int32_t>(ReadInteger(env, options, limits::kContextShiftKeep, request->shift_keep));
        if (!options.Get(limits::kLogprobs.name).IsUndefined()) {
            request->logprobs = static_cast<int32_t>(ReadInteger(env, options, limits::kLogprobs, 0));
        }
        request->sampling =
            ReadSamplingParams(env, OptionsObject(env, options.Get("sampling"), "sampling"), *state->model);
        request->stops = StopMatcher(ReadStrings(env, options, "stop"));
        Napi::Function on_token = OptionalFunction(env, info[1], "onToken");
        request->stream = !on_token.IsEmpty();
        request->abort = AbortToken::FlagOf(env, info[2]);
        request->affinity = static_cast<uint64_t>(ReadInteger(env, options, "affinity", 0, 0, kMaxAffinity));
        return Submit(env, state, std::move(request), on_token);
    });
}

Napi::Promise Context::Submit(Napi::Env env, const std::shared_ptr<ContextState> & state,
                              std::unique_ptr<GenerationRequest> request, Napi::Function on_token) {
    NativeFailure failure;
    if (!state->CheckIdle(failure)) {
        Throw(env, failure);
    }
    std::shared_ptr<EngineBridge> bridge = bridge_.lock();
    if (state->engine() == nullptr) {
        bridge = EngineBridge::Create(env);
        bridge_ = bridge;
        state->StartEngine(bridge);
    }
    if (!request->abort) {
        request->abort = NewAbortFlag();
    }
    AbortFlag abort = request->abort;
    const uint64_t id = state->engine()->Submit(std::move(request));
    return bridge->Track(env, id, on_token, std::move(abort));
}

Napi::Value Context::SaveSequence(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ContextState> state = LiveOrThrow(env);
        auto request = std::make_unique<GenerationRequest>();
        request->op = SequenceOp::Save;
        request->affinity = AffinityArgument(env, info[0]);
        return Submit(env, state, std::move(request), Napi::Function());
    });
}

Napi::Value Context::LoadSequence(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ContextState> state = LiveOrThrow(env);
        auto request = std::make_unique<GenerationRequest>();
        request->op = SequenceOp::Load;
        request->affinity = AffinityArgument(env, info[0]);
        Napi::Object options = OptionsObject(env, info[1], "options");
        request->prompt = ReadTokens(env, options.Get("tokens"), *state->model, "tokens");
        auto bytes = [&](const char * key) {
            Napi::Value value = options.Get(key);
            if (value.IsUndefined()) return std::vector<uint8_t>();
            if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
                Throw(env, ErrorCode::InvalidArgument, std::string(key) + " must be a Uint8Array");
            }
            Napi::Uint8Array array = value.As<Napi::Uint8Array>();
            return std::vector<uint8_t>(array.Data(), array.Data() + array.ElementLength());
        };
        request->state = bytes("state");
        request->draft_state = bytes("draftState");
        if (request->prompt.empty() || request->state.empty()) {
            Throw(env, ErrorCode::InvalidArgument, "loadSequence needs the tokens and the state saveSequence gave");
        }
        request->lora = ReadLora(env, options.Get("lora"), *state->model);
        return Submit(env, state, std::move(request), Napi::Function());
    });
}

Napi::Value Context::ReleaseSequence(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const uint64_t affinity = AffinityArgument(env, info[0]);
    if (state_ && !state_->disposed.load() && state_->engine() != nullptr) {
        state_->engine()->Release(affinity);
    }
    return env.Undefined();
}

Napi::Value Context::Embed(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ContextState> state = LiveOrThrow(env);
        std::vector<llama_token> tokens = ReadTokens(env, info[0], *state->model, "tokens");
        if (tokens.empty()) {
            Throw(env, ErrorCode::InvalidArgument, "tokens must not be empty");
        }
        Napi::Object options = OptionsObject(env, info[1], "options");
        const bool normalize = ReadBool(env, options, "normalize", true);
        Lease<ContextState> lease = AcquireOrThrow(env, state, nullptr);
        return StartEmbed(env, std::move(lease), std::move(tokens), normalize);
    });
}

Napi::Value Context::MemoryClear(const Napi::CallbackInfo & info) {
    llama_context * ctx = IdleOrThrow(info.Env());
    llama_memory_clear(llama_get_memory(ctx), true);
    return info.Env().Undefined();
}

Napi::Value Context::MemorySeqRemove(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_context * ctx = IdleOrThrow(env);
    Napi::Object options = OptionsObject(env, info[0], "options");
    auto seq = static_cast<llama_seq_id>(ReadInteger(env, options, "seqId", 0, -1, llama_n_seq_max(ctx) - 1));
    auto p0 = static_cast<llama_pos>(ReadInteger(env, options, "from", -1, -1, INT32_MAX));
    auto p1 = static_cast<llama_pos>(ReadInteger(env, options, "to", -1, -1, INT32_MAX));
    return Napi::Boolean::New(env, llama_memory_seq_rm(llama_get_memory(ctx), seq, p0, p1));
}

Napi::Value Context::MemorySeqPosMax(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_context * ctx = IdleOrThrow(env);
    Napi::Object options = OptionsObject(env, info[0], "options");
    auto seq = static_cast<llama_seq_id>(ReadInteger(env, options, "seqId", 0, 0, llama_n_seq_max(ctx) - 1));
    return Napi::Number::New(env, llama_memory_seq_pos_max(llama_get_memory(ctx), seq));
}

Napi::Value Context::Info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<ContextState> state = LiveOrThrow(env);
    llama_context * ctx = state->ctx;
    Napi::Object result = Napi::Object::New(env);
    result.Set("contextSize", Napi::Number::New(env, llama_n_ctx(ctx)));
    result.Set("batchSize", Napi::Number::New(env, llama_n_batch(ctx)));
    result.Set("ubatchSize", Napi::Number::New(env, llama_n_ubatch(ctx)));
    result.Set("sequences", Napi::Number::New(env, llama_n_seq_max(ctx)));
    result.Set("sequenceSize", Napi::Number::New(env, llama_n_ctx_seq(ctx)));
    result.Set("threads", Napi::Number::New(env, llama_n_threads(ctx)));
    result.Set("threadsBatch", Napi::Number::New(env, llama_n_threads_batch(ctx)));
    const char * pooling = "none";
    switch (llama_pooling_type(ctx)) {
        case LLAMA_POOLING_TYPE_MEAN: pooling = "mean"; break;
        case LLAMA_POOLING_TYPE_CLS: pooling = "cls"; break;
        case LLAMA_POOLING_TYPE_LAST: pooling = "last"; break;
        case LLAMA_POOLING_TYPE_RANK: pooling = "rank"; break;
        default: break;
    }
    result.Set("pooling", Napi::String::New(env, pooling));
    result.Set("memory", MakeMemoryBreakdown(env, state->memory));
    return result;
}

Napi::Value Context::Perf(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    // Idle only: the counters are written by the decode in flight. llama.cpp adds a decode to them
    // when it next synchronizes (on a CPU, the decode has finished: nothing to wait for).
    llama_context * ctx = IdleOrThrow(env);
    llama_synchronize(ctx);
    const llama_perf_context_data data = llama_perf_context(ctx);
    Napi::Object result = Napi::Object::New(env);
    result.Set("loadMs", Napi::Number::New(env, data.t_load_ms));
    result.Set("promptMs", Napi::Number::New(env, data.t_p_eval_ms));
    result.Set("promptTokens", Napi::Number::New(env, data.n_p_eval));
    result.Set("evalMs", Napi::Number::New(env, data.t_eval_ms));
    result.Set("evalTokens", Napi::Number::New(env, data.n_eval));
    result.Set("reusedGraphs", Napi::Number::New(env, data.n_reused));
    return result;
}

Napi::Value Context::Dispose(const Napi::CallbackInfo & info) {
    if (state_) {
        state_->MarkDisposed();
        state_.reset();
    }
    return info.Env().Undefined();
}

Napi::Value Context::Disposed(const Napi::CallbackInfo & info) {
    return Napi::Boolean::New(info.Env(), !state_ || state_->disposed.load());
}

}  // namespace llama_napi
