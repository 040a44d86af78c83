// Chat through llama.cpp's own chat layer (common/chat, run by the addon off the main thread): a
// conversation with tools → the prompt, the grammar of tool calls and what the parser needs; the
// generated text → content, reasoning and tool calls, validated against each tool's schema.
import { randomBytes } from 'node:crypto';

import type { NativeModel, NativeSamplingParams } from '../binding.js';
import { LlamaError, native } from '../errors.js';
import type { ChatMessage } from './chat.js';
import { checkJsonValue, prepareValidator } from './json-output.js';
import type { JsonSchema } from './json-schema.js';

/** A function the model may call. */
export interface ChatTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments (an object schema; default: no arguments). */
  parameters?: JsonSchema;
}

/** A call of a tool, as the model made it: `arguments` parsed and checked against the tool's schema. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** Which tools the model may call: any or none at will (`'auto'`), none, at least one, or that one. */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export interface ChatLayerRequest {
  template?: string;
  messages: readonly ChatMessage[];
  tools?: readonly ChatTool[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  thinking?: boolean;
  addGenerationPrompt?: boolean;
  /** Other variables the template reads (`chat_template_kwargs`). */
  templateVariables?: Record<string, unknown>;
}

/** What applyChat resolves with (native/workers/ChatWorkers.cpp). */
export interface ChatFormat {
  prompt: string;
  format: number;
  formatName: string;
  plain: boolean;
  grammar: string;
  grammarLazy: boolean;
  generationPrompt: string;
  parser: string;
  supportsThinking: boolean;
  thinkingStartTag: string;
  thinkingEndTags: string[];
  additionalStops: string[];
  caps: Record<string, boolean>;
  preservedTokens: number[];
  triggerPatterns: string[];
  triggerTokens: number[];
  grammarPrefill: number[];
  /** The thought's opening and closing tags as tokens (empty where the template has no thought),
   *  and the tokens of the answer's opening the template wrote. */
  reasoningStart: number[];
  reasoningEnd: number[][];
  reasoningPrefill: number[];
}

interface ParsedMessage {
  content: string;
  reasoning: string;
  toolCalls: Array<{ name: string; arguments: string; id: string }>;
  error?: string;
}

/** A conversation in the OpenAI message format llama.cpp's chat layer reads. */
function toOpenAi(messages: readonly ChatMessage[]): unknown[] {
  return messages.map((message) => {
    const out: Record<string, unknown> = { role: message.role, content: message.content };
    if (message.reasoning !== undefined && message.reasoning !== '') out.reasoning_content = message.reasoning;
    if (message.toolCalls !== undefined && message.toolCalls.length > 0) {
      out.tool_calls = message.toolCalls.map((call) => ({
        type: 'function',
        id: call.id,
        function: { name: call.name, arguments: JSON.stringify(call.arguments) },
      }));
    }
    if (message.toolCallId !== undefined) out.tool_call_id = message.toolCallId;
    if (message.name !== undefined) out.name = message.name;
    return out;
  });
}

const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** Checks the tool list (with handlers where a chat session runs them); throws INVALID_OPTION. */
export function checkTools(tools: unknown, handlers = false): ChatTool[] {
  if (!Array.isArray(tools)) throw new LlamaError('INVALID_OPTION', 'tools must be an array of { name, parameters }');
  const names = new Set<string>();
  return tools.map((tool: unknown, i) => {
    const where = `tools[${i}]`;
    if (tool === null || typeof tool !== 'object')
      throw new LlamaError('INVALID_OPTION', `${where} must be { name, description?, parameters? }`);
    const fields = handlers ? ['name', 'description', 'parameters', 'handler'] : ['name', 'description', 'parameters'];
    const unknown = Object.keys(tool).find((key) => !fields.includes(key));
    if (unknown === 'handler') {
      throw new LlamaError(
        'INVALID_OPTION',
        `${where}.handler: chat() returns the calls for you to answer with tool messages; ` +
          'a chat session (model.createChatSession) runs handlers',
      );
    }
    if (unknown !== undefined) throw new LlamaError('INVALID_OPTION', `${where}.${unknown} is not a tool field`);
    const handler: unknown = (tool as { handler?: unknown }).handler;
    if (handler !== undefined && typeof handler !== 'function')
      throw new LlamaError('INVALID_OPTION', `${where}.handler must be a function`);
    const { name, description, parameters } = tool as ChatTool;
    if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
      throw new LlamaError(
        'INVALID_OPTION',
        `${where}.name must be 1–64 letters, digits, "_", "." or "-", starting with a letter or "_"`,
      );
    }
    if (names.has(name)) throw new LlamaError('INVALID_OPTION', `${where}: two tools are named "${name}"`);
    names.add(name);
    if (description !== undefined && typeof description !== 'string')
      throw new LlamaError('INVALID_OPTION', `${where}.description must be a string`);
    if (parameters !== undefined) {
      if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters))
        throw new LlamaError('INVALID_OPTION', `${where}.parameters must be a JSON Schema object`);
      prepareValidator(parameters);
    }
    return {
      name,
      ...(description === undefined ? {} : { description }),
      ...(parameters === undefined ? {} : { parameters }),
    };
  });
}

function checkToolChoice(choice: unknown, tools: readonly ChatTool[]): ToolChoice {
  if (choice === undefined) return 'auto';
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (choice !== null && typeof choice === 'object' && typeof (choice as { name?: unknown }).name === 'string') {
    const { name } = choice as { name: string };
    if (!tools.some((tool) => tool.name === name))
      throw new LlamaError('INVALID_OPTION', `toolChoice names "${name}", which is not one of the tools`);
    return { name };
  }
  throw new LlamaError('INVALID_OPTION', "toolChoice must be 'auto', 'none', 'required' or { name }");
}

/** Formats a conversation with the model's chat layer. */
export async function applyChat(model: NativeModel, request: ChatLayerRequest): Promise<ChatFormat> {
  const tools = request.tools ?? [];
  const choice = checkToolChoice(request.toolChoice, tools);
  // A named choice: that tool alone, and a call of it required.
  const offered = typeof choice === 'object' ? tools.filter((tool) => tool.name === choice.name) : tools;
  const body: Record<string, unknown> = {
    messages: toOpenAi(request.messages),
    toolChoice: typeof choice === 'object' ? 'required' : choice,
    enableThinking: request.thinking ?? true,
  };
  if (request.template !== undefined) body.template = request.template;
  if (offered.length > 0) {
    body.tools = offered.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        parameters: tool.parameters ?? { type: 'object', properties: {} },
      },
    }));
  }
  if (request.parallelToolCalls !== undefined) body.parallelToolCalls = request.parallelToolCalls;
  if (request.addGenerationPrompt !== undefined) body.addGenerationPrompt = request.addGenerationPrompt;
  if (request.templateVariables !== undefined) body.kwargs = request.templateVariables;
  return JSON.parse(await native(model.applyChat(JSON.stringify(body)))) as ChatFormat;
}

/**
 * llama.cpp's grammar for required tool calls lets free text come before the first call (the
 * answer's root rule reads `… until-N? tool-calls`). Under `'required'` the call comes first: that
 * optional text is dropped from the root rule (only there, and only where it stands right before
 * the tool-call rule; a grammar of another shape is kept as llama.cpp made it).
 */
export function callsFirst(grammar: string): string {
  return grammar.replace(/^(root ::= [^\n]*?)\buntil-\d+\??\s+((?:space\s+)?[\w-]*tool-call)/m, '$1$2');
}

/** The sampling and request fields a chat format adds to a generation: its grammar, and the
 *  thought's tags (which a lazy grammar waits out, and a `thinkingBudget` counts). */
export function formatSampling(format: ChatFormat, required = false, thinkingBudget?: number): NativeSamplingParams {
  const thought: NativeSamplingParams =
    format.reasoningStart.length > 0 && (format.grammarLazy || thinkingBudget !== undefined)
      ? {
          reasoningStart: format.reasoningStart,
          reasoningEnd: format.reasoningEnd,
          reasoningPrefill: format.reasoningPrefill,
          ...(thinkingBudget === undefined ? {} : { reasoningBudget: thinkingBudget }),
        }
      : {};
  if (format.grammar === '') return thought;
  return {
    ...thought,
    grammar: required && !format.grammarLazy ? callsFirst(format.grammar) : format.grammar,
    ...(format.grammarLazy
      ? {
          grammarLazy: true,
          grammarTriggerPatterns: format.triggerPatterns,
          grammarTriggerTokens: format.triggerTokens,
        }
      : {}),
    ...(format.grammarPrefill.length > 0 ? { grammarPrefill: format.grammarPrefill } : {}),
  };
}

/** Content, reasoning and validated tool calls of generated text. */
export async function parseChat(
  model: NativeModel,
  text: string,
  format: ChatFormat,
  tools: readonly ChatTool[],
  partial = false,
): Promise<{ content: string; reasoning: string; toolCalls: ToolCall[] }> {
  const parsed = JSON.parse(
    await native(
      model.parseChat(
        text,
        JSON.stringify({
          format: format.format,
          parser: format.parser,
          generationPrompt: format.generationPrompt,
          parseToolCalls: tools.length > 0,
          partial,
        }),
      ),
    ),
  ) as ParsedMessage;
  // Without tools (or for an answer cut off), calls are not asked for: only content and reasoning count.
  const toolCalls = (tools.length === 0 ? [] : parsed.toolCalls).map((call): ToolCall => {
    const tool = tools.find((candidate) => candidate.name === call.name);
    if (tool === undefined) {
      throw new LlamaError('INVALID_TOOL_CALL', `the model called "${call.name}", which is not one of the tools`);
    }
    let args: unknown;
    try {
      args = call.arguments === '' ? {} : JSON.parse(call.arguments);
    } catch (error) {
      throw new LlamaError(
        'INVALID_TOOL_CALL',
        `the arguments of the model's call of "${call.name}" do not parse: ` +
          JSON.stringify(call.arguments.slice(0, 200)),
        { cause: error },
      );
    }
    if (args === null || typeof args !== 'object' || Array.isArray(args)) {
      throw new LlamaError(
        'INVALID_TOOL_CALL',
        `the arguments of the model's call of "${call.name}" are not an object`,
      );
    }
    const problem = checkJsonValue(args, tool.parameters ?? { type: 'object' });
    if (problem !== undefined) {
      throw new LlamaError(
        'INVALID_TOOL_CALL',
        `the arguments of the model's call of "${call.name}" do not match its parameters: ${problem}`,
      );
    }
    return {
      id: call.id || `call_${randomBytes(6).toString('hex')}`,
      name: call.name,
      arguments: args as Record<string, unknown>,
    };
  });
  return { content: parsed.content, reasoning: parsed.reasoning, toolCalls };
}

/** The answer and thought llama.cpp's parser reads in text still being written (a tag half written is
 *  held back; tool calls are read, so their markup is neither, but not returned). */
export async function parsePartialChat(
  model: NativeModel,
  text: string,
  format: ChatFormat,
  toolCalls: boolean,
): Promise<{ content: string; reasoning: string }> {
  const options = JSON.stringify({
    format: format.format,
    parser: format.parser,
    generationPrompt: format.generationPrompt,
    parseToolCalls: toolCalls,
    partial: true,
  });
  const parsed = JSON.parse(await native(model.parseChat(text, options))) as ParsedMessage;
  return { content: parsed.content, reasoning: parsed.reasoning };
}

/** A chat generation's chunk: the raw token and text, and what it adds to the answer and to the thought. */
export interface ChatDelta {
  /** What this chunk adds to the answer's `text` (empty while the model thinks, or writes a tool call). */
  content: string;
  /** What this chunk adds to the thought (`reasoning`). */
  reasoning: string;
}

/**
 * Turns a chat generation's raw chunks into chunks that also carry the answer text and thought each
 * adds, as llama.cpp's parser reads the text so far (llama-server's streamed deltas). The parses run
 * one after another, off the main thread; chunks keep their order. Without `parse` (an answer that
 * is all content: a grammar's, or a template llama.cpp cannot analyze) the text is the content.
 */
export class ChatDeltas<C extends { token: number; text: string }> {
  readonly #parse: ((text: string) => Promise<{ content: string; reasoning: string }>) | undefined;
  readonly #push: (chunk: C & ChatDelta) => void;
  #text = '';
  #content = '';
  #reasoning = '';
  #token = -1;
  #chain: Promise<void> = Promise.resolve();

  constructor(
    parse: ((text: string) => Promise<{ content: string; reasoning: string }>) | undefined,
    push: (chunk: C & ChatDelta) => void,
  ) {
    this.#parse = parse;
    this.#push = push;
  }

  /** Receives the generation's chunks. */
  readonly onChunk = (chunk: C): void => {
    this.#text += chunk.text;
    this.#token = chunk.token;
    const text = this.#text;
    const parse = this.#parse;
    this.#chain = this.#chain.then(async () => {
      const seen = parse === undefined ? { content: text, reasoning: '' } : await parse(text).catch(() => undefined);
      this.#push({ ...chunk, ...this.#advance(seen?.content ?? this.#content, seen?.reasoning ?? this.#reasoning) });
    });
  };

  /** Waits for the chunks still being parsed. */
  settled(): Promise<void> {
    return this.#chain;
  }

  /** After the last chunk: what the final parse adds to what the chunks gave (text the partial
   *  parser held back), as one more chunk without text. */
  async finish(answer: { text: string; reasoning?: string }): Promise<void> {
    await this.#chain;
    const rest = this.#advance(answer.text, answer.reasoning ?? '');
    if (rest.content !== '' || rest.reasoning !== '')
      this.#push({ token: this.#token, text: '', ...rest } as C & ChatDelta);
  }

  /** The growth from what was given to `content` and `reasoning` (nothing where a parse went back). */
  #advance(content: string, reasoning: string): ChatDelta {
    const delta: ChatDelta = { content: '', reasoning: '' };
    if (content.length > this.#content.length && content.startsWith(this.#content)) {
      delta.content = content.slice(this.#content.length);
      this.#content = content;
    }
    if (reasoning.length > this.#reasoning.length && reasoning.startsWith(this.#reasoning)) {
      delta.reasoning = reasoning.slice(this.#reasoning.length);
      this.#reasoning = reasoning;
    }
    return delta;
  }
}

/** Whether `template` is a llama.cpp template name ("chatml", "llama3", …) rather than Jinja text. */
export function isTemplateName(template: string): boolean {
  return !template.includes('{{') && !template.includes('{%');
}
