// Parsing answers with llama.cpp's chat layer, checked against llama.cpp's own expectations: each
// case is one of tests/test-chat.cpp (its template, its model output, its tools and options) with
// the message that test expects, run through the addon's applyChat and parseChat as chat() runs them,
// and compared as that test compares (arguments as JSON, text with surrounding whitespace stripped).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { addon, type NativeModel } from '../../lib/binding.js';
import { applyChat, parseChat, type ChatTool } from '../../lib/generation/chat-layer.js';
import { corpusTemplate, testModelPath } from '../fixtures/models.js';

// test-chat.cpp's special_function_tool.
const specialFunction: ChatTool = {
  name: 'special_function',
  description: "I'm special",
  parameters: {
    type: 'object',
    properties: { arg1: { type: 'integer', description: 'The arg.' } },
    required: ['arg1'],
  },
};

interface Case {
  template: string;
  output: string;
  tools?: ChatTool[];
  thinking?: boolean;
  parallelToolCalls?: boolean;
  expected: { content: string; reasoning?: string; calls?: Array<{ name: string; arguments: object; id?: string }> };
}

// message_assist, message_assist_call, message_assist_call_content, message_assist_thoughts and the
// inline expectations of test-chat.cpp.
const HELLO = "Hello, world!\nWhat's up?";
const CASES: Record<string, Case> = {
  'Hermes 2 Pro: a call (message_assist_call)': {
    template: 'NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use',
    output: '<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}</tool_call>',
    tools: [specialFunction],
    expected: { content: '', calls: [{ name: 'special_function', arguments: { arg1: 1 } }] },
  },
  'Hermes 2 Pro: content, then a call (message_assist_call_content)': {
    template: 'NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use',
    output: `${HELLO}<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}</tool_call>`,
    tools: [specialFunction],
    expected: { content: HELLO, calls: [{ name: 'special_function', arguments: { arg1: 1 } }] },
  },
  'QwQ: a thought forced open, then the answer': {
    template: 'Qwen-QwQ-32B',
    output: 'Let me think about this...\n</think>\nThe answer is 42.',
    thinking: true,
    expected: { content: 'The answer is 42.', reasoning: 'Let me think about this...' },
  },
  'QwQ: an empty thought': {
    template: 'Qwen-QwQ-32B',
    output: '</think>Hello, world!',
    expected: { content: 'Hello, world!' },
  },
  'Mistral Nemo: a call with its id (message_assist_call_id)': {
    template: 'mistralai-Mistral-Nemo-Instruct-2407',
    output: '[TOOL_CALLS][{"name": "special_function", "arguments": {"arg1": 1}, "id": "123456789"}]',
    tools: [specialFunction],
    expected: { content: '', calls: [{ name: 'special_function', arguments: { arg1: 1 }, id: '123456789' }] },
  },
  'Mistral Nemo: plain content (message_assist)': {
    template: 'mistralai-Mistral-Nemo-Instruct-2407',
    output: HELLO,
    expected: { content: HELLO },
  },
  'DeepSeek R1 (llama.cpp template): a thought, then content (message_assist_thoughts)': {
    template: 'llama-cpp-deepseek-r1',
    output: `I'm\nthinking</think>${HELLO}`,
    expected: { content: HELLO, reasoning: "I'm\nthinking" },
  },
  'DeepSeek R1 (llama.cpp template): a call after an empty thought (message_assist_call)': {
    template: 'llama-cpp-deepseek-r1',
    output:
      '</think><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>special_function\n' +
      '```json\n{"arg1": 1}```<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
    tools: [specialFunction],
    parallelToolCalls: true,
    expected: { content: '', calls: [{ name: 'special_function', arguments: { arg1: 1 } }] },
  },
  'Llama 3.1: content with tools offered (message_assist)': {
    template: 'meta-llama-Llama-3.1-8B-Instruct',
    output: HELLO,
    tools: [specialFunction],
    expected: { content: HELLO },
  },
};

let model: NativeModel;
beforeAll(async () => {
  model = await addon().loadModel(testModelPath('qwenChat'), { vocabOnly: true });
});
afterAll(() => {
  model?.dispose();
});

describe("llama.cpp's expectations (tests/test-chat.cpp)", () => {
  test.each(Object.entries(CASES))('%s', async (_name, c) => {
    const tools = c.tools ?? [];
    const format = await applyChat(model, {
      template: corpusTemplate(c.template),
      messages: [{ role: 'user', content: 'Hey there!' }],
      tools,
      ...(c.thinking === undefined ? {} : { thinking: c.thinking }),
      ...(c.parallelToolCalls === undefined ? {} : { parallelToolCalls: c.parallelToolCalls }),
    });
    const parsed = await parseChat(model, c.output, format, tools);
    // test-chat.cpp compares content and reasoning with surrounding whitespace stripped.
    expect(parsed.content.trim()).toBe(c.expected.content);
    expect(parsed.reasoning.trim()).toBe(c.expected.reasoning ?? '');
    const calls = c.expected.calls ?? [];
    expect(parsed.toolCalls).toHaveLength(calls.length);
    parsed.toolCalls.forEach((call, i) => {
      expect(call.name).toBe(calls[i]?.name);
      expect(call.arguments).toEqual(calls[i]?.arguments);
      if (calls[i]?.id !== undefined) expect(call.id).toBe(calls[i]?.id);
      else expect(call.id).toMatch(/^call_[0-9a-f]{12}$/);
    });
  });
});
