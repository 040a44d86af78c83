// Context handle, its state and lease (see Context.h).
#include "Context.h"

#include <algorithm>
#include <string>
#include <thread>

#include "AbortToken.h"
#include "AddonData.h"
#include "Backends.h"
#include "Engine.h"
#include "Stats.h"
#include "Model.h"
#include "Promises.h"
#include "Sampler.h"
#include "Tokens.h"
#include "Workers.h"
#include "errors.h"

namespace llama_napi {

namespace {

thread_local std::shared_ptr<ContextState> t_pending_context;

bool AbortCallback(void * data) { return static_cast<const ContextState *>(data)->ShouldStop(); }

}  // namespace

ContextState::ContextState(std::shared_ptr<ModelState> owner, llama_context * context, ggml_threadpool * pool)
    : model(std::move(owner)), ctx(context), threadpool(pool) {
    Stats::Get().contexts.made++;
    llama_set_abort_callback(ctx, AbortCallback, this);
    if (threadpool != nullptr) {
        llama_attach_threadpool(ctx, threadpool, nullptr);
    }
}

ContextState::~ContextState() { Free(); }

Engine & ContextState::EngineFor(Napi::Env env) {
    if (!engine_) {
        engine_ = std::make_unique<Engine>(env, *this);
    }
    return *engine_;
}

size_t ContextState::EngineActive() const { return engine_ ? engine_->Active() : 0; }

void ContextState::Free() {
    if (engine_) {
        engine_->Stop();  // aborts a decode in flight (disposed is set), joins the engine thread
        engine_.reset();
    }
    if (ctx != nullptr) {
        llama_free(ctx);
        ctx = nullptr;
        Stats::Get().contexts.freed++;
    }
    if (threadpool != nullptr) {
        ThreadpoolFree(threadpool);
        threadpool = nullptr;
    }
    model.reset();
}

void ContextState::MarkDisposed() {
    disposed.store(true);
    if (!busy) {
        Free();
    }
}

bool ContextState::HasLogits(int32_t index) const {
    if (last_batch_size <= 0) {
        return false;
    }
    if (index == -1 || index == last_batch_size - 1) {
        return true;
    }
    return last_logits_all && index >= 0 && index < last_batch_size;
}

bool ContextState::ShouldStop() const {
    if (disposed.load(std::memory_order_relaxed)) {
        return true;
    }
    if (engine_ && engine_->BatchAborted()) {
        return true;
    }
    std::atomic<bool> * abort = active_abort.load(std::memory_order_acquire);
    return abort != nullptr && abort->load(std::memory_order_relaxed);
}

ContextLease ContextLease::Acquire(Napi::Env env, std::shared_ptr<ContextState> state, std::atomic<bool> * abort) {
    if (!state || state->disposed.load()) {
        Throw(env, ErrorCode::Disposed, "the context has been disposed");
    }
    if (state->busy || state->EngineActive() > 0) {
        Throw(env, ErrorCode::Busy, "the context is busy with another operation; await it first");
    }
    if (state->engine_) {
        state->engine_->InvalidateCache();  // raw operations change the memory behind the engine
    }
    state->busy = true;
    state->active_abort.store(abort, std::memory_order_release);
    ContextLease lease;
    lease.state_ = std::move(state);
    return lease;
}

ContextLease & ContextLease::operator=(ContextLease && other) noexcept {
    if (this != &other) {
        Release();
        state_ = std::move(other.state_);
    }
    return *this;
}

void ContextLease::Release() {
    if (!state_) {
        return;
    }
    state_->active_abort.store(nullptr, std::memory_order_release);
    state_->busy = false;
    if (state_->disposed.load()) {
        state_->Free();
    }
    state_.reset();
}

llama_context_params ReadContextParams(Napi::Env env, Napi::Object options) {
    llama_context_params params = llama_context_default_params();
    const int64_t hardware = std::max(1u, std::thread::hardware_concurrency());
    params.n_ctx = static_cast<uint32_t>(ReadInteger(env, options, "contextSize", 4096, 1, 1 << 24));
    params.n_batch = static_cast<uint32_t>(ReadInteger(env, options, "batchSize", std::min<int64_t>(512, params.n_ctx), 1, 1 << 24));
    params.n_ubatch = static_cast<uint32_t>(ReadInteger(env, options, "ubatchSize", std::min<uint32_t>(params.n_batch, 512), 1, params.n_batch));
    params.n_threads = static_cast<int32_t>(ReadInteger(env, options, "threads", hardware, 1, 1024));
    params.n_threads_batch = static_cast<int32_t>(ReadInteger(env, options, "threadsBatch", params.n_threads, 1, 1024));
    params.n_seq_max = static_cast<uint32_t>(ReadInteger(env, options, "sequences", 1, 1, static_cast<int64_t>(llama_max_parallel_sequences())));
    params.embeddings = ReadBool(env, options, "embeddings", false);
    Napi::Value pooling = options.Get("pooling");
    if (!pooling.IsUndefined()) {
        const std::string name = pooling.IsString() ? pooling.As<Napi::String>().Utf8Value() : std::string();
        if (name == "model") params.pooling_type = LLAMA_POOLING_TYPE_UNSPECIFIED;
        else if (name == "none") params.pooling_type = LLAMA_POOLING_TYPE_NONE;
        else if (name == "mean") params.pooling_type = LLAMA_POOLING_TYPE_MEAN;
        else if (name == "cls") params.pooling_type = LLAMA_POOLING_TYPE_CLS;
        else if (name == "last") params.pooling_type = LLAMA_POOLING_TYPE_LAST;
        else Throw(env, ErrorCode::InvalidArgument, "pooling must be 'model', 'none', 'mean', 'cls' or 'last'");
    }
    // llama.cpp's own counters (perf()): a clock read around each decode, nothing more.
    params.no_perf = false;
    Napi::Value flash = options.Get("flashAttention");
    if (!flash.IsUndefined()) {
        std::string mode = flash.IsString() ? flash.As<Napi::String>().Utf8Value() : std::string();
        if (flash.IsBoolean()) {
            params.flash_attn_type = flash.As<Napi::Boolean>().Value() ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
        } else if (mode == "auto") {
            params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_AUTO;
        } else {
            Throw(env, ErrorCode::InvalidArgument, "flashAttention must be true, false or 'auto'");
        }
    }
    return params;
}

Napi::Function Context::Define(Napi::Env env) {
    return DefineClass(env, "Context",
                       {
                           InstanceMethod<&Context::Decode>("decode"),
                           InstanceMethod<&Context::Sample>("sample"),
                           InstanceMethod<&Context::Generate>("generate"),
                           InstanceMethod<&Context::Embed>("embed"),
                           InstanceMethod<&Context::MemoryClear>("memoryClear"),
                           InstanceMethod<&Context::MemorySeqRemove>("memorySeqRemove"),
                           InstanceMethod<&Context::MemorySeqPosMax>("memorySeqPosMax"),
                           InstanceMethod<&Context::Info>("info"),
                           InstanceMethod<&Context::Perf>("perf"),
                           InstanceMethod<&Context::Dispose>("dispose"),
                           InstanceAccessor<&Context::Disposed>("disposed"),
                       });
}

Napi::Object Context::NewInstance(Napi::Env env, std::shared_ptr<ContextState> state) {
    t_pending_context = std::move(state);
    Napi::Object object = AddonData::Of(env).context.New({});
    t_pending_context.reset();
    return object;
}

Context::Context(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Context>(info), state_(std::move(t_pending_context)) {
    if (!state_) {
        Throw(info.Env(), ErrorCode::InvalidArgument, "a Context is created by model.createContext(), not with new");
    }
    info.This().As<Napi::Object>().TypeTag(&kTypeTag);
}

std::shared_ptr<ContextState> Context::LiveOrThrow(Napi::Env env) const {
    if (!state_ || state_->disposed.load()) {
        Throw(env, ErrorCode::Disposed, "the context has been disposed");
    }
    return state_;
}

llama_context * Context::IdleOrThrow(Napi::Env env) const {
    std::shared_ptr<ContextState> state = LiveOrThrow(env);
    // Acquiring and releasing a lease at once: the same checks, and the engine forgets its cache.
    ContextLease::Acquire(env, state, nullptr).Release();
    return state->ctx;
}

Napi::Value Context::Decode(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ContextState> state = LiveOrThrow(env);
        DecodeRequest request;
        request.tokens = ReadTokens(env, info[0], *state->model, "tokens");
        Napi::Object options = OptionsObject(env, info[1], "options");
        request.seq_id = static_cast<llama_seq_id>(ReadInteger(env, options, "seqId", 0, 0, llama_n_seq_max(state->ctx) - 1));
        request.logits_all = ReadBool(env, options, "logitsAll", false);
        AbortFlag abort = AbortToken::FlagOf(env, info[2]);
        if (request.tokens.empty()) {
            Throw(env, ErrorCode::InvalidArgument, "tokens must not be empty");
        }
        ContextLease lease = ContextLease::Acquire(env, state, abort.get());
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
        ContextLease context = ContextLease::Acquire(env, state, nullptr);
        if (!state->HasLogits(index)) {
            Throw(env, ErrorCode::InvalidArgument,
                  "no logits at output index " + std::to_string(index) + ": decode first (with logitsAll for an index other than the last)");
        }
        return StartSample(env, std::move(context), SamplerLease::Acquire(env, std::move(sampler)), index);
    });
}

Napi::Value Context::Generate(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ContextState> state = LiveOrThrow(env);
        Napi::Object options = OptionsObject(env, info[0], "options");
        auto request = std::make_unique<GenerationRequest>();
        request->prompt = ReadTokens(env, options.Get("tokens"), *state->model, "tokens");
        if (request->prompt.empty()) {
            Throw(env, ErrorCode::InvalidArgument, "tokens (the prompt) must not be empty");
        }
        request->max_tokens = static_cast<int32_t>(ReadInteger(env, options, "maxTokens", INT32_MAX, 0, INT32_MAX));
        request->special = ReadBool(env, options, "special", false);
        request->sampling = ReadSamplingParams(env, OptionsObject(env, options.Get("sampling"), "sampling"), *state->model);
        request->stops = StopMatcher(ReadStrings(env, options, "stop"));
        Napi::Value on_token = info[1];
        if (!on_token.IsUndefined() && !on_token.IsNull() && !on_token.IsFunction()) {
            Throw(env, ErrorCode::InvalidArgument, "onToken must be a function");
        }
        request->stream = on_token.IsFunction();
        request->abort = AbortToken::FlagOf(env, info[2]);
        if (state->busy) {
            Throw(env, ErrorCode::Busy, "the context is busy with another operation; await it first");
        }
        return state->EngineFor(env).Submit(env, std::move(request),
                                            on_token.IsFunction() ? on_token.As<Napi::Function>() : Napi::Function());
    });
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
        ContextLease lease = ContextLease::Acquire(env, state, nullptr);
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
    llama_context * ctx = LiveOrThrow(env)->ctx;
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
