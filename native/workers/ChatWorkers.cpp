// model.applyChat() and model.parseChat(): llama.cpp's chat layer (common/chat), as llama-server
// uses it. applyChat renders a conversation with the model's Jinja template (or another) and
// returns what generating its answer needs: the prompt, the grammar of tool calls (lazy, with its
// trigger words, or from the first token), the tokens whose text the parser must see, extra stop
// strings, and the parser itself. parseChat runs that parser on the generated text: content,
// reasoning and tool calls apart. Requests and answers travel as JSON text (the OpenAI message
// format llama.cpp's own parsers read); both run off the main thread, since a template is code.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "chat.h"
#include "common.h"
#include "core/ModelState.h"
#include "workers/PromiseWorker.h"
#include "workers/Workers.h"

namespace llama_napi {

namespace {

using Json = nlohmann::ordered_json;

/** What failed while formatting: the request's shape, or the template itself. */
struct ChatError : std::runtime_error {
    ErrorCode code;
    ChatError(ErrorCode c, const std::string & message) : std::runtime_error(message), code(c) {}
};

std::string Describe(const std::exception & e) {
    std::string message = e.what();
    // llama.cpp's Jinja errors open with a newline and a ruler; keep the text.
    while (!message.empty() && (message.front() == '\n' || message.front() == '-')) message.erase(0, 1);
    return message;
}

/** What one request may spend rendering a template (jinja::render_budget, our patch of llama.cpp):
 *  real templates take thousands of steps and kilobytes; a template that loops, recurses or grows a
 *  string without end stops here instead of taking the process's memory, stack or a thread forever. */
constexpr uint64_t kTemplateSteps = 1'000'000;
constexpr uint64_t kTemplateBytes = 64ull << 20;
/** Nesting of the template's source and of its execution (macro recursion included): deep enough
 *  for any real template, shallow enough for a worker thread's stack. */
constexpr uint32_t kTemplateDepth = 256;

/** Sets a render budget for this thread while it lives. */
struct TemplateBudget {
    jinja::render_budget budget{ kTemplateSteps, kTemplateBytes, kTemplateDepth, 0 };
    TemplateBudget() { jinja::current_render_budget = &budget; }
    ~TemplateBudget() { jinja::current_render_budget = nullptr; }
    TemplateBudget(const TemplateBudget &) = delete;
    TemplateBudget & operator=(const TemplateBudget &) = delete;
};

/** A template's failure as the caller sees it: stopped by its budget, or failed with `what`. */
ChatError TemplateFailure(const std::exception & e, const std::string & what) {
    if (dynamic_cast<const jinja::render_budget_exceeded *>(&e) != nullptr) {
        return ChatError(ErrorCode::InvalidChatTemplate, std::string("the chat template was stopped: ") + e.what());
    }
    return ChatError(ErrorCode::InvalidChatTemplate, what + Describe(e));
}

/** The single token `text` is, or LLAMA_TOKEN_NULL. */
llama_token SingleToken(const llama_vocab * vocab, const std::string & text) {
    std::vector<llama_token> ids = common_tokenize(vocab, text, false, true);
    return ids.size() == 1 ? ids[0] : LLAMA_TOKEN_NULL;
}

class ApplyChatWorker : public PromiseWorker {
   public:
    ApplyChatWorker(Napi::Env env, std::shared_ptr<ModelState> model, std::string request)
        : PromiseWorker(env, "llama-napi:applyChat"), model_(std::move(model)), request_(std::move(request)) {}

   protected:
    void Run() override {
        try {
            result_ = Apply().dump(-1, ' ', false, Json::error_handler_t::replace);
        } catch (const ChatError & e) {
            Fail(e.code, e.what());
        }
    }

    Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, result_); }

   private:
    Json Apply() {
        Json request;
        try {
            request = Json::parse(request_);
        } catch (const std::exception & e) {
            throw ChatError(ErrorCode::InvalidArgument, std::string("the chat request is not JSON: ") + e.what());
        }
        const std::string source = request.value("template", std::string());
        TemplateBudget budget;
        std::shared_ptr<common_chat_templates> templates;
        try {
            templates = model_->ChatTemplates(source);
        } catch (const std::exception & e) {
            throw TemplateFailure(e, "the chat template does not parse: ");
        }

        common_chat_templates_inputs inputs;
        try {
            inputs.messages = common_chat_msgs_parse_oaicompat(common_json::parse(request.at("messages").dump()));
            if (request.contains("tools")) {
                inputs.tools = common_chat_tools_parse_oaicompat(common_json::parse(request.at("tools").dump()));
            }
            inputs.tool_choice = common_chat_tool_choice_parse_oaicompat(request.value("toolChoice", "auto"));
            if (request.contains("kwargs")) {
                for (const auto & [key, value] : request.at("kwargs").items()) {
                    inputs.chat_template_kwargs[key] = value.dump();
                }
            }
        } catch (const std::exception & e) {
            throw ChatError(ErrorCode::InvalidArgument, "the conversation is malformed: " + Describe(e));
        }
        inputs.use_jinja = true;
        inputs.add_generation_prompt = request.value("addGenerationPrompt", true);
        inputs.enable_thinking = request.value("enableThinking", true);
        inputs.reasoning_format = COMMON_REASONING_FORMAT_AUTO;  // a thought is parsed apart

        common_chat_params params;
        bool plain = false;
        Json caps_json = Json::object();
        {
            std::lock_guard<std::mutex> lock(model_->ChatLock());
            const std::map<std::string, bool> caps = common_chat_templates_get_caps(templates.get());
            auto cap = [&](const char * name) {
                auto it = caps.find(name);
                return it != caps.end() && it->second;
            };
            inputs.parallel_tool_calls = request.value("parallelToolCalls", cap("supports_parallel_tool_calls"));
            try {
                params = common_chat_templates_apply(templates.get(), inputs);
            } catch (const std::invalid_argument & e) {
                // A template llama.cpp's parser generator cannot analyze still formats plain
                // conversations, as it renders: its text is the answer.
                if (!inputs.tools.empty()) {
                    throw ChatError(ErrorCode::InvalidChatTemplate,
                                    "llama.cpp cannot use tools with this chat template: " + Describe(e));
                }
                inputs.force_pure_content = true;
                plain = true;
                try {
                    params = common_chat_templates_apply(templates.get(), inputs);
                } catch (const std::exception & again) {
                    throw TemplateFailure(again, "the chat template failed: ");
                }
            } catch (const std::exception & e) {
                throw TemplateFailure(e, "the chat template failed: ");
            }
            for (const auto & [name, value] : caps) caps_json[name] = value;
        }
        return Summarize(params, plain, std::move(caps_json));
    }

    Json Summarize(const common_chat_params & params, bool plain, Json caps) {
        const llama_vocab * vocab = model_->vocab;
        Json out;
        out["prompt"] = params.prompt;
        out["format"] = static_cast<int>(params.format);
        out["formatName"] = common_chat_format_name(params.format);
        out["plain"] = plain;
        out["grammar"] = params.grammar;
        out["grammarLazy"] = params.grammar_lazy;
        out["generationPrompt"] = params.generation_prompt;
        out["parser"] = params.parser;
        out["supportsThinking"] = params.supports_thinking;
        out["thinkingStartTag"] = params.thinking_start_tag;
        out["thinkingEndTags"] = params.thinking_end_tags;
        out["additionalStops"] = params.additional_stops;
        out["caps"] = std::move(caps);

        // The tokens the parser must see as text (llama-server's preserved_tokens).
        std::set<llama_token> preserved;
        for (const std::string & text : params.preserved_tokens) {
            const llama_token token = SingleToken(vocab, text);
            if (token != LLAMA_TOKEN_NULL) preserved.insert(token);
        }
        // Triggers as llama-server passes them to common_sampler_init: a word that is one
        // preserved token triggers as that token, any other as an escaped pattern.
        std::vector<std::string> patterns;
        std::vector<llama_token> trigger_tokens;
        for (const common_grammar_trigger & trigger : params.grammar_triggers) {
            switch (trigger.type) {
                case COMMON_GRAMMAR_TRIGGER_TYPE_WORD: {
                    const llama_token token = SingleToken(vocab, trigger.value);
                    if (token != LLAMA_TOKEN_NULL && preserved.count(token) != 0) {
                        trigger_tokens.push_back(token);
                    } else {
                        patterns.push_back(regex_escape(trigger.value));
                    }
                    break;
                }
                case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN: patterns.push_back(trigger.value); break;
                case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN_FULL: {
                    const std::string & pattern = trigger.value;
                    std::string anchored = "^$";
                    if (!pattern.empty()) {
                        anchored = (pattern.front() != '^' ? "^" : "") + pattern + (pattern.back() != '$' ? "$" : "");
                    }
                    patterns.push_back(anchored);
                    break;
                }
                case COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN: trigger_tokens.push_back(trigger.token); break;
            }
        }
        if (params.grammar_lazy && !params.grammar.empty() && patterns.empty() && trigger_tokens.empty()) {
            throw ChatError(ErrorCode::InvalidChatTemplate, "llama.cpp made a lazy grammar without triggers");
        }
        out["preservedTokens"] = std::vector<llama_token>(preserved.begin(), preserved.end());
        out["triggerPatterns"] = patterns;
        out["triggerTokens"] = trigger_tokens;

        // What the template already wrote of the answer, as common_sampler_init tokenizes it for
        // its prefill: the tokens of the generation prompt, less a leading space some tokenizers add.
        std::vector<llama_token> opening;
        if (!params.generation_prompt.empty()) {
            std::vector<llama_token> tokens = common_tokenize(vocab, params.generation_prompt, false, true);
            for (size_t i = 0; i < tokens.size(); ++i) {
                const std::string piece = common_token_to_piece(vocab, tokens[i], true);
                if (i == 0 && !piece.empty() && std::isspace(static_cast<unsigned char>(piece[0])) &&
                    !std::isspace(static_cast<unsigned char>(params.generation_prompt[0]))) {
                    continue;
                }
                opening.push_back(tokens[i]);
            }
        }
        // A grammar that applies from the first token starts after it.
        const bool eager = !params.grammar.empty() && !params.grammar_lazy;
        out["grammarPrefill"] = eager ? opening : std::vector<llama_token>();
        // The thought's tags as the reasoning budget sampler matches them (llama-server's
        // reasoning_budget_start_tag and _end_tags), and the opening it is fed.
        std::vector<std::vector<llama_token>> ends;
        for (const std::string & tag : params.thinking_end_tags) {
            if (!tag.empty()) ends.push_back(common_tokenize(vocab, tag, false, true));
        }
        const bool thinks = !params.thinking_start_tag.empty() && !ends.empty();
        out["reasoningStart"] =
            thinks ? common_tokenize(vocab, params.thinking_start_tag, false, true) : std::vector<llama_token>();
        out["reasoningEnd"] = thinks ? ends : std::vector<std::vector<llama_token>>();
        out["reasoningPrefill"] = thinks ? opening : std::vector<llama_token>();
        return out;
    }

    std::shared_ptr<ModelState> model_;
    std::string request_;
    std::string result_;
};

class ParseChatWorker : public PromiseWorker {
   public:
    ParseChatWorker(Napi::Env env, std::shared_ptr<ModelState> model, std::string text, std::string options)
        : PromiseWorker(env, "llama-napi:parseChat"),
          model_(std::move(model)),
          text_(std::move(text)),
          options_(std::move(options)) {}

   protected:
    void Run() override {
        Json options;
        common_chat_parser_params params;
        bool partial = false;
        try {
            options = Json::parse(options_);
            params.format = static_cast<common_chat_format>(options.value("format", 0));
            if (params.format < COMMON_CHAT_FORMAT_CONTENT_ONLY || params.format >= COMMON_CHAT_FORMAT_COUNT) {
                throw std::invalid_argument("unknown chat format");
            }
            params.generation_prompt = options.value("generationPrompt", std::string());
            params.reasoning_format = COMMON_REASONING_FORMAT_AUTO;
            params.parse_tool_calls = options.value("parseToolCalls", true);
            partial = options.value("partial", false);
            const std::string parser = options.value("parser", std::string());
            if (!parser.empty()) params.parser.load(parser);
        } catch (const std::exception & e) {
            Fail(ErrorCode::InvalidArgument, std::string("the parser options are malformed: ") + e.what());
            return;
        }
        common_chat_msg message;
        try {
            message = common_chat_parse(text_, partial, params);
        } catch (const std::exception & e) {
            // The text does not follow the template's format (a tool call cut off, or malformed):
            // it is all content, and the caller decides.
            Json out;
            out["content"] = text_;
            out["reasoning"] = "";
            out["toolCalls"] = Json::array();
            out["error"] = Describe(e);
            result_ = out.dump(-1, ' ', false, Json::error_handler_t::replace);
            return;
        }
        Json out;
        out["content"] = message.content;
        out["reasoning"] = message.reasoning_content;
        Json calls = Json::array();
        for (const common_chat_tool_call & call : message.tool_calls) {
            calls.push_back(Json{ { "name", call.name }, { "arguments", call.arguments }, { "id", call.id } });
        }
        out["toolCalls"] = std::move(calls);
        result_ = out.dump(-1, ' ', false, Json::error_handler_t::replace);
    }

    Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, result_); }

   private:
    std::shared_ptr<ModelState> model_;
    std::string text_;
    std::string options_;
    std::string result_;
};

}  // namespace

Napi::Promise StartApplyChat(Napi::Env env, std::shared_ptr<ModelState> model, std::string request) {
    return (new ApplyChatWorker(env, std::move(model), std::move(request)))->Start();
}

Napi::Promise StartParseChat(Napi::Env env, std::shared_ptr<ModelState> model, std::string text, std::string options) {
    return (new ParseChatWorker(env, std::move(model), std::move(text), std::move(options)))->Start();
}

}  // namespace llama_napi
