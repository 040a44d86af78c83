// Chat formatting: a conversation → the prompt text a model was trained on, by its own chat template.
// llama.cpp's built-in formatting for the template families it recognizes; otherwise the template
// itself, rendered by a Jinja engine (@huggingface/jinja), as Hugging Face renders it.
import { Template } from '@huggingface/jinja';

import { addon } from '../binding.js';
import { LlamaError } from '../errors.js';

/** One message of a conversation. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | (string & {});
  content: string;
  /** An assistant's thought, for templates that show earlier thoughts again. */
  reasoning?: string;
  /** The tools an assistant message called. */
  toolCalls?: ReadonlyArray<{ id: string; name: string; arguments: Record<string, unknown> }>;
  /** A tool message: the id of the call it answers … */
  toolCallId?: string;
  /** … and the tool's name. */
  name?: string;
}

/**
 * Options of formatChat(): whether to open the assistant's turn, which engine formats, and the special tokens'
 * text.
 */
export interface FormatChatOptions {
  /** Add the opening of the assistant's turn (default true). */
  addGenerationPrompt?: boolean;
  /** Which engine formats: llama.cpp's built-ins first, then Jinja ('auto', default), or one of them. */
  engine?: 'auto' | 'llama.cpp' | 'jinja';
  /** Text of the model's special tokens, for templates that use them. */
  bosToken?: string;
  eosToken?: string;
}

/** Checks a conversation's shape; throws INVALID_ARGUMENT. */
export function checkMessages(messages: unknown): ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0)
    throw new LlamaError('INVALID_ARGUMENT', 'messages must be a non-empty array of { role, content }');
  return messages.map((message, i) => {
    if (
      message === null ||
      typeof message !== 'object' ||
      typeof message.role !== 'string' ||
      message.role === '' ||
      typeof message.content !== 'string'
    ) {
      throw new LlamaError('INVALID_ARGUMENT', `messages[${i}] must be { role: string, content: string }`);
    }
    const checked: ChatMessage = { role: message.role, content: message.content };
    for (const key of ['reasoning', 'toolCallId', 'name'] as const) {
      const value: unknown = message[key];
      if (value === undefined) continue;
      if (typeof value !== 'string') throw new LlamaError('INVALID_ARGUMENT', `messages[${i}].${key} must be a string`);
      checked[key] = value;
    }
    if (message.toolCalls !== undefined) {
      const calls: unknown = message.toolCalls;
      if (
        !Array.isArray(calls) ||
        !calls.every(
          (call: unknown) =>
            call !== null &&
            typeof call === 'object' &&
            typeof (call as { id?: unknown }).id === 'string' &&
            typeof (call as { name?: unknown }).name === 'string' &&
            (call as { arguments?: unknown }).arguments !== null &&
            typeof (call as { arguments?: unknown }).arguments === 'object',
        )
      ) {
        throw new LlamaError(
          'INVALID_ARGUMENT',
          `messages[${i}].toolCalls must be an array of { id, name, arguments }`,
        );
      }
      checked.toolCalls = calls as ChatMessage['toolCalls'];
    }
    return checked;
  });
}

/** Formats `messages` with `template` (a Jinja chat template, or a llama.cpp template name such as "chatml"). */
export function formatChat(
  template: string,
  messages: readonly ChatMessage[],
  options: FormatChatOptions = {},
): string {
  const addGenerationPrompt = options.addGenerationPrompt ?? true;
  const engine = options.engine ?? 'auto';
  if (engine !== 'jinja') {
    const formatted = addon().applyChatTemplate(template, messages, addGenerationPrompt);
    if (formatted !== null) return formatted;
    if (engine === 'llama.cpp')
      throw new LlamaError('INVALID_OPTION', 'llama.cpp does not recognize this chat template');
  }
  const compiled = compile(template);
  const render = (conversation: readonly ChatMessage[]) =>
    compiled.render({
      messages: conversation,
      add_generation_prompt: addGenerationPrompt,
      bos_token: options.bosToken ?? '',
      eos_token: options.eosToken ?? '',
    });
  // Templates that refuse or drop a system message get it at the head of the first user message,
  // as llama.cpp's chat layer does.
  let conversation = messages;
  if (messages[0]?.role === 'system' && !supportsSystemRole(compiled)) {
    const [system, ...rest] = messages as [ChatMessage, ...ChatMessage[]];
    const first = rest.findIndex((message) => message.role === 'user');
    conversation =
      first === -1
        ? [{ role: 'user', content: system.content }, ...rest]
        : rest.map((message, i) =>
            i === first ? { role: 'user', content: `${system.content}\n${message.content}` } : message,
          );
  }
  try {
    return render(conversation);
  } catch (error) {
    throw new LlamaError(
      'INVALID_ARGUMENT',
      `the chat template refused the conversation: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

const compiledTemplates = new Map<string, Template>();

function compile(template: string): Template {
  let compiled = compiledTemplates.get(template);
  if (compiled === undefined) {
    try {
      compiled = new Template(template);
    } catch (error) {
      throw new LlamaError('INVALID_OPTION', `the chat template does not parse: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (compiledTemplates.size > 64) compiledTemplates.clear();
    compiledTemplates.set(template, compiled);
  }
  return compiled;
}

const systemSupport = new WeakMap<Template, boolean>();

/** Whether a template renders a system message's content (it may also refuse or drop it). */
function supportsSystemRole(template: Template): boolean {
  let supported = systemSupport.get(template);
  if (supported === undefined) {
    const marker = '<<llama-napi system probe>>';
    try {
      supported = template
        .render({
          messages: [
            { role: 'system', content: marker },
            { role: 'user', content: 'hi' },
          ],
          add_generation_prompt: true,
          bos_token: '',
          eos_token: '',
        })
        .includes(marker);
    } catch {
      supported = false;
    }
    systemSupport.set(template, supported);
  }
  return supported;
}
