// Model handle: what llama.cpp knows of the model, and the operations that start workers on it
// (see Model.h).
#include "handles/Model.h"

#include <string>
#include <vector>

#include "core/OptionLimits.h"
#include "handles/Context.h"
#include "handles/Options.h"
#include "js/AddonData.h"
#include "js/Arguments.h"
#include "js/Errors.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

std::string MetaString(int32_t (*read)(const llama_model *, int32_t, char *, size_t), const llama_model * model,
                       int32_t index) {
    int32_t length = read(model, index, nullptr, 0);
    if (length < 0) {
        return std::string();
    }
    std::vector<char> buffer(static_cast<size_t>(length) + 1);
    read(model, index, buffer.data(), buffer.size());
    return std::string(buffer.data(), static_cast<size_t>(length));
}

const char * VocabTypeName(enum llama_vocab_type type) {
    switch (type) {
        case LLAMA_VOCAB_TYPE_SPM: return "spm";
        case LLAMA_VOCAB_TYPE_BPE: return "bpe";
        case LLAMA_VOCAB_TYPE_WPM: return "wpm";
        case LLAMA_VOCAB_TYPE_UGM: return "ugm";
        case LLAMA_VOCAB_TYPE_RWKV: return "rwkv";
        case LLAMA_VOCAB_TYPE_PLAMO2: return "plamo2";
        case LLAMA_VOCAB_TYPE_NONE: return "none";
        default: return "other";
    }
}

Napi::Value TokenOrNull(Napi::Env env, llama_token token) {
    return token == LLAMA_TOKEN_NULL ? env.Null() : Napi::Number::New(env, token);
}

}  // namespace

Napi::Function Model::Define(Napi::Env env) {
    return DefineClass(env, kClassName,
                       {
                           InstanceMethod<&Model::Info>("info"),
                           InstanceMethod<&Model::Tokenize>("tokenize"),
                           InstanceMethod<&Model::Detokenize>("detokenize"),
                           InstanceMethod<&Model::TokenToPiece>("tokenToPiece"),
                           InstanceMethod<&Model::IsEog>("isEog"),
                           InstanceMethod<&Model::CreateContext>("createContext"),
                           InstanceMethod<&Model::GrammarMatch>("grammarMatch"),
                           InstanceMethod<&Model::LoadLora>("loadLora"),
                           InstanceMethod<&Model::ApplyChat>("applyChat"),
                           InstanceMethod<&Model::ParseChat>("parseChat"),
                           InstanceMethod<&Model::Dispose>("dispose"),
                           InstanceAccessor<&Model::Disposed>("disposed"),
                       });
}

Napi::Object Model::Wrap(Napi::Env env, std::shared_ptr<ModelState> state) {
    return NewInstance(AddonData::Of(env).model, std::move(state));
}

Model::Model(const Napi::CallbackInfo & info) : Handle(info) {
    if (!state_) {
        Throw(info.Env(), ErrorCode::InvalidArgument, "a Model is created by loadModel(), not with new");
    }
}

std::shared_ptr<ModelState> Model::StateOf(Napi::Env env, Napi::Value value, const char * what) {
    return FromValue(env, value, what)->LiveOrThrow(env);
}

std::shared_ptr<ModelState> Model::LiveOrThrow(Napi::Env env) const {
    if (!state_) {
        Throw(env, ErrorCode::Disposed, "the model has been disposed");
    }
    return state_;
}

Napi::Value Model::Info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<ModelState> state = LiveOrThrow(env);
    const llama_model * model = state->model;
    const llama_vocab * vocab = state->vocab;

    Napi::Object result = Napi::Object::New(env);
    Napi::Object metadata = Napi::Object::New(env);
    const int32_t count = llama_model_meta_count(model);
    for (int32_t i = 0; i < count; ++i) {
        metadata.Set(MetaString(llama_model_meta_key_by_index, model, i),
                     MetaString(llama_model_meta_val_str_by_index, model, i));
    }
    Napi::Value architecture = metadata.Get("general.architecture");
    result.Set("architecture", architecture.IsString() ? architecture : Napi::String::New(env, ""));

    char description[256];
    int32_t length = llama_model_desc(model, description, sizeof(description));
    result.Set("description", Napi::String::New(env, length > 0 ? description : ""));
    result.Set("parameters", Napi::Number::New(env, static_cast<double>(llama_model_n_params(model))));
    result.Set("sizeBytes", Napi::Number::New(env, static_cast<double>(llama_model_size(model))));
    result.Set("fileType", Napi::String::New(env, llama_ftype_name(llama_model_ftype(model))));
    result.Set("contextTrain", Napi::Number::New(env, llama_model_n_ctx_train(model)));
    result.Set("embeddingLength", Napi::Number::New(env, llama_model_n_embd(model)));
    const int32_t n_layer = llama_model_n_layer(model);
    result.Set("layerCount", Napi::Number::New(env, n_layer));
    // llama.cpp aborts on the per-layer head counts of a model without layers (vocab-only).
    result.Set("headCount", Napi::Number::New(env, n_layer > 0 ? llama_model_n_head(model) : 0));
    result.Set("headCountKv", Napi::Number::New(env, n_layer > 0 ? llama_model_n_head_kv(model) : 0));
    result.Set("hasEncoder", Napi::Boolean::New(env, llama_model_has_encoder(model)));
    result.Set("hasDecoder", Napi::Boolean::New(env, llama_model_has_decoder(model)));
    result.Set("isRecurrent", Napi::Boolean::New(env, llama_model_is_recurrent(model)));
    result.Set("vocabOnly", Napi::Boolean::New(env, state->vocab_only));
    Napi::Object gpu_layers = Napi::Object::New(env);
    gpu_layers.Set("offloaded", Napi::Number::New(env, state->offloaded_layers));
    gpu_layers.Set("total", Napi::Number::New(env, state->vocab_only ? 0 : n_layer + 1));
    result.Set("gpuLayers", gpu_layers);
    result.Set("plannedContextSize", Napi::Number::New(env, state->planned_context));
    result.Set("vocabSize", Napi::Number::New(env, state->n_vocab));
    result.Set("vocabType", Napi::String::New(env, VocabTypeName(llama_vocab_type(vocab))));

    Napi::Object tokens = Napi::Object::New(env);
    tokens.Set("bos", TokenOrNull(env, llama_vocab_bos(vocab)));
    tokens.Set("eos", TokenOrNull(env, llama_vocab_eos(vocab)));
    tokens.Set("eot", TokenOrNull(env, llama_vocab_eot(vocab)));
    tokens.Set("sep", TokenOrNull(env, llama_vocab_sep(vocab)));
    tokens.Set("nl", TokenOrNull(env, llama_vocab_nl(vocab)));
    tokens.Set("pad", TokenOrNull(env, llama_vocab_pad(vocab)));
    Napi::Array eog = Napi::Array::New(env);
    for (int32_t token = 0, n = 0; token < state->n_vocab; ++token) {
        if (llama_vocab_is_eog(vocab, token)) {
            eog.Set(n++, Napi::Number::New(env, token));
        }
    }
    tokens.Set("eog", eog);
    result.Set("tokens", tokens);
    result.Set("addBos", Napi::Boolean::New(env, llama_vocab_get_add_bos(vocab)));
    result.Set("addEos", Napi::Boolean::New(env, llama_vocab_get_add_eos(vocab)));

    const char * chat_template = llama_model_chat_template(model, nullptr);
    result.Set("chatTemplate", chat_template != nullptr ? Napi::String::New(env, chat_template) : env.Null());
    result.Set("metadata", metadata);
    return result;
}

Napi::Value Model::Tokenize(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ModelState> state = LiveOrThrow(env);
        std::string text = StringArgument(env, info[0], "text");
        Napi::Object options = OptionsObject(env, info[1], "options");
        return StartTokenize(env, std::move(state), std::move(text), ReadBool(env, options, "addSpecial", true),
                             ReadBool(env, options, "parseSpecial", false));
    });
}

Napi::Value Model::Detokenize(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ModelState> state = LiveOrThrow(env);
        std::vector<llama_token> tokens = ReadTokens(env, info[0], *state, "tokens");
        Napi::Object options = OptionsObject(env, info[1], "options");
        return StartDetokenize(env, std::move(state), std::move(tokens), ReadBool(env, options, "removeSpecial", false),
                               ReadBool(env, options, "unparseSpecial", false));
    });
}

Napi::Value Model::TokenToPiece(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ModelState> state = LiveOrThrow(env);
        std::vector<llama_token> tokens = ReadTokens(env, info[0], *state, "tokens");
        Napi::Object options = OptionsObject(env, info[1], "options");
        return StartTokenToPiece(env, std::move(state), std::move(tokens), ReadBool(env, options, "special", false));
    });
}

Napi::Value Model::IsEog(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<ModelState> state = LiveOrThrow(env);
    const llama_token token = ReadToken(env, info[0], *state, "token");
    return Napi::Boolean::New(env, llama_vocab_is_eog(state->vocab, token));
}

Napi::Value Model::CreateContext(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ModelState> state = LiveOrThrow(env);
        if (state->vocab_only) {
            Throw(env, ErrorCode::VocabOnly, "the model was loaded with vocabOnly: it has no weights to run");
        }
        Napi::Object options = OptionsObject(env, info[0], "options");
        llama_context_params params = ReadContextParams(env, options);
        SpeculativeConfig speculative;
        Napi::Value value = options.Get("speculative");
        if (!value.IsUndefined()) {
            Napi::Object spec = OptionsObject(env, value, "speculative");
            speculative.lookup = ReadBool(env, spec, "lookup", false);
            speculative.max_draft = static_cast<int32_t>(ReadInteger(env, spec, limits::kMaxDraftTokens, 0));
            Napi::Value draft = spec.Get("draftModel");
            if (!draft.IsUndefined() && !draft.IsNull()) {
                speculative.draft_model = StateOf(env, draft, "speculative.draftModel");
                if (speculative.draft_model->vocab_only) {
                    Throw(env, ErrorCode::InvalidDraftModel, "the draft model was loaded with vocabOnly");
                }
            }
        }
        return StartCreateContext(env, std::move(state), params, std::move(speculative), &Context::Wrap);
    });
}

Napi::Value Model::ApplyChat(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ModelState> state = LiveOrThrow(env);
        if (!info[0].IsString()) {
            Throw(env, ErrorCode::InvalidArgument, "request must be a string (JSON)");
        }
        return StartApplyChat(env, std::move(state), info[0].As<Napi::String>().Utf8Value());
    });
}

Napi::Value Model::ParseChat(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ModelState> state = LiveOrThrow(env);
        if (!info[0].IsString() || !info[1].IsString()) {
            Throw(env, ErrorCode::InvalidArgument, "parseChat takes the text and its options (JSON)");
        }
        return StartParseChat(env, std::move(state), info[0].As<Napi::String>().Utf8Value(),
                              info[1].As<Napi::String>().Utf8Value());
    });
}

Napi::Value Model::GrammarMatch(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ModelState> state = LiveOrThrow(env);
        if (!info[0].IsString()) {
            Throw(env, ErrorCode::InvalidArgument, "grammar must be a string (GBNF)");
        }
        std::string grammar = ReadGrammar(env, info[0]);
        std::vector<llama_token> tokens = ReadTokens(env, info[1], *state, "tokens");
        Napi::Object options = OptionsObject(env, info[2], "options");
        std::string root = ReadString(env, options, "root", "root");
        return StartGrammarMatch(env, std::move(state), std::move(grammar), std::move(root), std::move(tokens));
    });
}

Napi::Value Model::Dispose(const Napi::CallbackInfo & info) {
    if (state_) {
        state_->MarkDisposed();
        state_.reset();
    }
    return info.Env().Undefined();
}

Napi::Value Model::Disposed(const Napi::CallbackInfo & info) { return Napi::Boolean::New(info.Env(), !state_); }

Napi::Value Model::LoadLora(const Napi::CallbackInfo & info) {
    return PromiseOrReject(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::shared_ptr<ModelState> state = LiveOrThrow(env);
        if (state->vocab_only) {
            Throw(env, ErrorCode::VocabOnly, "the model was loaded with vocabOnly: it takes no LoRA adapter");
        }
        std::string path = StringArgument(env, info[0], "path");
        if (path.empty()) {
            Throw(env, ErrorCode::InvalidArgument, "path must be a non-empty string");
        }
        return StartLoadLora(env, std::move(state), std::move(path));
    });
}

}  // namespace llama_napi
