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

// test-chat.cpp's special_function_tool_with_optional_param, get_time_tool, get_weather_tool,
// python_tool, empty_args_tool and run_in_terminal_tool.
const specialFunctionWithOpt: ChatTool = {
  name: 'special_function_with_opt',
  description: "I'm special but have optional stuff",
  parameters: {
    type: 'object',
    properties: {
      arg1: { type: 'integer', description: 'The arg.' },
      arg2: { type: 'integer', description: 'The optional arg.' },
    },
    required: ['arg1'],
  },
};
const getTime: ChatTool = {
  name: 'get_time',
  description: 'Get the current time in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', description: 'City name' } },
    required: ['city'],
  },
};
const getWeather: ChatTool = {
  name: 'get_weather',
  description: 'Get the current weather in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', description: 'City name' } },
    required: ['city'],
  },
};
const python: ChatTool = {
  name: 'python',
  description: 'an ipython interpreter',
  parameters: {
    type: 'object',
    properties: { code: { type: 'string', description: 'Python code to execute.' } },
    required: ['code'],
  },
};
const emptyArgs: ChatTool = {
  name: 'empty_args',
  description: 'A tool that takes no arguments',
  parameters: { type: 'object', properties: {} },
};
const runInTerminal: ChatTool = {
  name: 'run_in_terminal',
  description: 'Run a shell command.',
  parameters: {
    type: 'object',
    properties: { command: { type: 'string', description: 'Shell command to run' } },
    required: ['command'],
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

// message_assist, message_assist_call, message_assist_call_content, message_assist_call_id,
// message_assist_call_thoughts, message_assist_thoughts, message_assist_thoughts_call_idx and the
// inline expectations of test-chat.cpp.
const HELLO = "Hello, world!\nWhat's up?";
const THINKING = "I'm\nthinking";
// message_assist_call's call, and the two calls of test-chat.cpp's parallel cases.
const SPECIAL = { name: 'special_function', arguments: { arg1: 1 } };
const WITH_OPT = { name: 'special_function_with_opt', arguments: { arg1: 1, arg2: 2 } };
// Qwen3-Coder's XML call of special_function (Qwen3.5 and Nemotron 3 write it the same way).
const QWEN_XML_CALL =
  '<tool_call>\n<function=special_function>\n<parameter=arg1>\n1\n</parameter>\n</function>\n</tool_call>';
const QWEN_XML_CALL_WITH_OPT =
  '<tool_call>\n<function=special_function_with_opt>\n<parameter=arg1>\n1\n</parameter>\n' +
  '<parameter=arg2>\n2\n</parameter>\n</function>\n</tool_call>';
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
  'Llama 3.2: content with tools offered (message_assist)': {
    template: 'meta-llama-Llama-3.2-3B-Instruct',
    output: HELLO,
    tools: [specialFunction],
    expected: { content: HELLO },
  },
  'LFM2.5 8B: a thought, then a call (message_assist_call_thoughts)': {
    template: 'LFM2.5-8B-A1B',
    output: "<think>I'm\nthinking</think><|tool_call_start|>[special_function(arg1=1)]<|tool_call_end|>",
    tools: [specialFunction],
    expected: { content: '', reasoning: THINKING, calls: [SPECIAL] },
  },
  'LFM2.5 8B: a thought read with thinking off (message_assist_thoughts)': {
    template: 'LFM2.5-8B-A1B',
    output: `<think>I'm\nthinking</think>${HELLO}`,
    thinking: false,
    expected: { content: HELLO, reasoning: THINKING },
  },
  'LFM2.5 8B: content, then a call with a string argument': {
    template: 'LFM2.5-8B-A1B',
    output: 'Let me check the time.<|tool_call_start|>[get_time(city="Paris")]<|tool_call_end|>',
    tools: [getTime],
    expected: { content: 'Let me check the time.', calls: [{ name: 'get_time', arguments: { city: 'Paris' } }] },
  },
  'Qwen3.5: a thought forced open, then content (message_assist_thoughts)': {
    template: 'Qwen3.5-4B',
    output: `I'm\nthinking\n</think>\n\n${HELLO}`,
    thinking: true,
    expected: { content: HELLO, reasoning: THINKING },
  },
  'Qwen3.5: a thought, then an XML call (message_assist_call_thoughts)': {
    template: 'Qwen3.5-4B',
    output: `I'm\nthinking\n</think>\n\n${QWEN_XML_CALL}`,
    tools: [specialFunction],
    expected: { content: '', reasoning: THINKING, calls: [SPECIAL] },
  },
  'Qwen3.5: a call ends the prefilled thought without </think>': {
    template: 'Qwen3.5-4B',
    output:
      'Need to inspect the current directory.\n<tool_call>\n<function=run_in_terminal>\n<parameter=command>\npwd\n' +
      '</parameter>\n</function>\n</tool_call>',
    thinking: true,
    tools: [runInTerminal],
    expected: {
      content: '',
      reasoning: 'Need to inspect the current directory.',
      calls: [{ name: 'run_in_terminal', arguments: { command: 'pwd' } }],
    },
  },
  'Qwen3-Coder: an XML call (message_assist_call)': {
    template: 'Qwen3-Coder',
    output: QWEN_XML_CALL,
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'Qwen3-Coder: a call without its opening <tool_call>, after content': {
    template: 'Qwen3-Coder',
    output:
      'Let me call it.\n<function=special_function>\n<parameter=arg1>\n1\n</parameter>\n</function>\n</tool_call>',
    tools: [specialFunction],
    expected: { content: 'Let me call it.', calls: [SPECIAL] },
  },
  'Qwen3-Coder: two parallel calls': {
    template: 'Qwen3-Coder',
    output: `${QWEN_XML_CALL}\n${QWEN_XML_CALL_WITH_OPT}`,
    parallelToolCalls: true,
    tools: [specialFunction, specialFunctionWithOpt],
    expected: { content: '', calls: [SPECIAL, WITH_OPT] },
  },
  'Ministral 3 Reasoning: a [THINK] thought, then content (message_assist_thoughts)': {
    template: 'mistralai-Ministral-3-14B-Reasoning-2512',
    output: `[THINK]I'm\nthinking[/THINK]${HELLO}`,
    thinking: true,
    expected: { content: HELLO, reasoning: THINKING },
  },
  'Ministral 3 Reasoning: a thought, then a call (message_assist_call_thoughts)': {
    template: 'mistralai-Ministral-3-14B-Reasoning-2512',
    output: '[THINK]I\'m\nthinking[/THINK][TOOL_CALLS]special_function[ARGS]{"arg1":1}',
    thinking: true,
    tools: [specialFunction],
    expected: { content: '', reasoning: THINKING, calls: [SPECIAL] },
  },
  'Ministral 3 Reasoning: two parallel calls': {
    template: 'mistralai-Ministral-3-14B-Reasoning-2512',
    output:
      '[TOOL_CALLS]special_function[ARGS]{"arg1": 1}' +
      '[TOOL_CALLS]special_function_with_opt[ARGS]{"arg1": 1, "arg2": 2}',
    parallelToolCalls: true,
    tools: [specialFunction, specialFunctionWithOpt],
    expected: { content: '', calls: [SPECIAL, WITH_OPT] },
  },
  'Nemotron 3 Nano: content with thinking off (message_assist)': {
    template: 'NVIDIA-Nemotron-3-Nano-30B-A3B-BF16',
    output: HELLO,
    thinking: false,
    expected: { content: HELLO },
  },
  'Nemotron 3 Nano: a thought forced open, then content (message_assist_thoughts)': {
    template: 'NVIDIA-Nemotron-3-Nano-30B-A3B-BF16',
    output: `I'm\nthinking\n</think>\n${HELLO}`,
    thinking: true,
    expected: { content: HELLO, reasoning: THINKING },
  },
  'Nemotron 3 Nano: a thought, then an XML call (message_assist_call_thoughts)': {
    template: 'NVIDIA-Nemotron-3-Nano-30B-A3B-BF16',
    output: `I'm\nthinking\n</think>\n${QWEN_XML_CALL}\n`,
    tools: [specialFunction],
    expected: { content: '', reasoning: THINKING, calls: [SPECIAL] },
  },
  'Nemotron Nano v2: a thought, then a <TOOLCALL> (message_assist_call_thoughts)': {
    template: 'NVIDIA-Nemotron-Nano-v2',
    output: 'I\'m\nthinking\n</think>\n<TOOLCALL>[{"name": "special_function", "arguments": {"arg1": 1}}]</TOOLCALL>',
    tools: [specialFunction],
    expected: { content: '', reasoning: THINKING, calls: [SPECIAL] },
  },
  'Command R7B: a response block (message_assist)': {
    template: 'CohereForAI-c4ai-command-r7b-12-2024-tool_use',
    output: `<|START_RESPONSE|>${HELLO}<|END_RESPONSE|>`,
    expected: { content: HELLO },
  },
  'Command R7B: a thought, then a response (message_assist_thoughts)': {
    template: 'CohereForAI-c4ai-command-r7b-12-2024-tool_use',
    output: `<|START_THINKING|>I'm\nthinking<|END_THINKING|><|START_RESPONSE|>${HELLO}<|END_RESPONSE|>`,
    expected: { content: HELLO, reasoning: THINKING },
  },
  'Command R7B: a thought, then an action with its id (message_assist_thoughts_call_idx)': {
    template: 'CohereForAI-c4ai-command-r7b-12-2024-tool_use',
    output:
      "<|START_THINKING|>I'm\nthinking<|END_THINKING|><|START_ACTION|>[\n" +
      '    {"tool_call_id": "0", "tool_name": "special_function", "parameters": {"arg1": 1}}\n]<|END_ACTION|>',
    tools: [specialFunction],
    expected: { content: '', reasoning: THINKING, calls: [{ ...SPECIAL, id: '0' }] },
  },
  'Cohere2 MoE: a thought forced open, then a text block (message_assist_thoughts)': {
    template: 'Cohere2MoE',
    output: `I'm\nthinking<|END_THINKING|><|START_TEXT|>${HELLO}<|END_TEXT|>`,
    expected: { content: HELLO, reasoning: THINKING },
  },
  'Cohere2 MoE: an empty thought, then a text block (message_assist)': {
    template: 'Cohere2MoE',
    output: `<|END_THINKING|><|START_TEXT|>${HELLO}<|END_TEXT|>`,
    expected: { content: HELLO },
  },
  'Cohere2 MoE: a thought, then an action with its id (message_assist_thoughts_call_idx)': {
    template: 'Cohere2MoE',
    output:
      "I'm\nthinking<|END_THINKING|><|START_ACTION|>[\n" +
      '    {"tool_call_id": "0", "tool_name": "special_function", "parameters": {"arg1": 1}}\n]<|END_ACTION|>',
    tools: [specialFunction],
    expected: { content: '', reasoning: THINKING, calls: [{ ...SPECIAL, id: '0' }] },
  },
  'Gemma 4: a thought channel, then content (message_assist_thoughts)': {
    template: 'google-gemma-4-31B-it',
    output: `<|channel>thought\nI'm\nthinking<channel|>${HELLO}`,
    expected: { content: HELLO, reasoning: THINKING },
  },
  'Gemma 4: content, then a call with a string argument': {
    template: 'google-gemma-4-31B-it',
    output: `${HELLO}<|tool_call>call:get_time{city:<|"|>Paris<|"|>}<tool_call|>`,
    tools: [getTime],
    expected: { content: HELLO, calls: [{ name: 'get_time', arguments: { city: 'Paris' } }] },
  },
  'Gemma 4: two parallel calls': {
    template: 'google-gemma-4-31B-it',
    output:
      '<|tool_call>call:get_time{city:<|"|>London<|"|>}<tool_call|>' +
      '<|tool_call>call:get_weather{city:<|"|>Paris<|"|>}<tool_call|>',
    parallelToolCalls: true,
    tools: [getTime, getWeather],
    expected: {
      content: '',
      calls: [
        { name: 'get_time', arguments: { city: 'London' } },
        { name: 'get_weather', arguments: { city: 'Paris' } },
      ],
    },
  },
  'Granite 3.3: plain content (message_assist)': {
    template: 'ibm-granite-granite-3.3-2B-Instruct',
    output: HELLO,
    expected: { content: HELLO },
  },
  'Granite 3.3: a thought, then content (message_assist_thoughts)': {
    template: 'ibm-granite-granite-3.3-2B-Instruct',
    output: `<think>I'm\nthinking</think>${HELLO}`,
    expected: { content: HELLO, reasoning: THINKING },
  },
  'Granite 4.0: plain content (message_assist)': {
    template: 'ibm-granite-granite-4.0',
    output: HELLO,
    expected: { content: HELLO },
  },
  'Granite 4.0: a <tool_call> (message_assist_call)': {
    template: 'ibm-granite-granite-4.0',
    output: '<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}\n</tool_call>',
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'Seed-OSS: plain content (message_assist)': {
    template: 'ByteDance-Seed-OSS',
    output: HELLO,
    expected: { content: HELLO },
  },
  'Seed-OSS: a <seed:think> thought, then content': {
    template: 'ByteDance-Seed-OSS',
    output: "<seed:think>I'm thinking about the answer</seed:think>\nHello, world!",
    expected: { content: 'Hello, world!', reasoning: "I'm thinking about the answer" },
  },
  'Seed-OSS: a <seed:tool_call> (message_assist_call)': {
    template: 'ByteDance-Seed-OSS',
    output:
      '<seed:tool_call>\n<function=special_function>\n<parameter=arg1>1</parameter>\n</function>\n</seed:tool_call>',
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'DeepSeek V3.1: a call with thinking off': {
    template: 'deepseek-ai-DeepSeek-V3.1',
    output:
      '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_time<｜tool▁sep｜>{"city": "XYZCITY"}' +
      '<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
    thinking: false,
    tools: [getTime],
    expected: { content: '', calls: [{ name: 'get_time', arguments: { city: 'XYZCITY' } }] },
  },
  'DeepSeek V3.1: a thought, content, then two parallel calls': {
    template: 'deepseek-ai-DeepSeek-V3.1',
    output:
      'REASONING</think>CONTENT<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_time<｜tool▁sep｜>{"city": "Paris"}' +
      '<｜tool▁call▁end｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Paris"}<｜tool▁call▁end｜>' +
      '<｜tool▁calls▁end｜>',
    thinking: true,
    parallelToolCalls: true,
    tools: [getTime, getWeather],
    expected: {
      content: 'CONTENT',
      reasoning: 'REASONING',
      calls: [
        { name: 'get_time', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Paris' } },
      ],
    },
  },
  'DeepSeek V3.1: a thought forced open, then content': {
    template: 'deepseek-ai-DeepSeek-V3.1',
    output: 'REASONING</think>\nCONTENT',
    thinking: true,
    expected: { content: 'CONTENT', reasoning: 'REASONING' },
  },
  'DeepSeek V3.2: a thought, then content (message_assist_thoughts)': {
    template: 'deepseek-ai-DeepSeek-V3.2',
    output: `I'm\nthinking</think>${HELLO}`,
    thinking: true,
    expected: { content: HELLO, reasoning: THINKING },
  },
  'DeepSeek V3.2: a DSML call with thinking off (message_assist_call)': {
    template: 'deepseek-ai-DeepSeek-V3.2',
    output:
      '<｜DSML｜function_calls>\n<｜DSML｜invoke name="special_function">\n' +
      '<｜DSML｜parameter name="arg1" string="false">1</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜function_calls>',
    thinking: false,
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'DeepSeek V4: a thought, then a DSML call': {
    template: 'deepseek-ai-DeepSeek-V4',
    output:
      'Let me check the time</think>\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name="get_time">\n' +
      '<｜DSML｜parameter name="city" string="true">Tokyo</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>',
    thinking: true,
    tools: [getTime],
    expected: {
      content: '',
      reasoning: 'Let me check the time',
      calls: [{ name: 'get_time', arguments: { city: 'Tokyo' } }],
    },
  },
  'DeepSeek R1 Distill Llama: an empty thought, then content (message_assist)': {
    template: 'deepseek-ai-DeepSeek-R1-Distill-Llama-8B',
    output: `</think>${HELLO}`,
    expected: { content: HELLO },
  },
  'DeepSeek R1 Distill Qwen: a thought forced open, then content (message_assist_thoughts)': {
    template: 'deepseek-ai-DeepSeek-R1-Distill-Qwen-32B',
    output: `I'm\nthinking</think>${HELLO}`,
    expected: { content: HELLO, reasoning: THINKING },
  },
  'DeepSeek R1 Distill Qwen: a call with thinking off (message_assist_call)': {
    template: 'deepseek-ai-DeepSeek-R1-Distill-Qwen-32B',
    output:
      '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>special_function\n' +
      '```json\n{"arg1": 1}```<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
    thinking: false,
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'GLM-4.6: a call with <arg_key> and <arg_value> (message_assist_call)': {
    template: 'GLM-4.6',
    output: '<tool_call>special_function\n<arg_key>arg1</arg_key>\n<arg_value>1</arg_value>\n</tool_call>',
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'GLM-4.7 Flash: content with thinking off (message_assist)': {
    template: 'GLM-4.7-Flash',
    output: HELLO,
    thinking: false,
    expected: { content: HELLO },
  },
  'GLM-4.7 Flash: a thought forced open, then a call (message_assist_call_thoughts)': {
    template: 'GLM-4.7-Flash',
    output:
      "I'm\nthinking</think><tool_call>special_function<arg_key>arg1</arg_key><arg_value>1</arg_value></tool_call>",
    thinking: true,
    tools: [specialFunction],
    expected: { content: '', reasoning: THINKING, calls: [SPECIAL] },
  },
  'Kimi K2 Thinking: plain content (message_assist)': {
    template: 'Kimi-K2-Thinking',
    output: HELLO,
    expected: { content: HELLO },
  },
  'Kimi K2 Thinking: a thought, then a call with its functions.NAME:N id': {
    template: 'Kimi-K2-Thinking',
    output:
      "<think>I'm thinking about this</think><|tool_calls_section_begin|><|tool_call_begin|>" +
      'functions.special_function:0<|tool_call_argument_begin|>{"arg1": 1}<|tool_call_end|><|tool_calls_section_end|>',
    tools: [specialFunction],
    expected: {
      content: '',
      reasoning: "I'm thinking about this",
      calls: [{ ...SPECIAL, id: 'functions.special_function:0' }],
    },
  },
  'Kimi K2 Thinking: a call inside the thought, without section markers': {
    template: 'Kimi-K2-Thinking',
    output:
      '<think>I need to call two functions' +
      '<|tool_call_begin|>functions.special_function:0<|tool_call_argument_begin|>{"arg1": 1}' +
      '<|tool_call_begin|>functions.python:1<|tool_call_argument_begin|>{"code": "print(\'hey\')"}',
    parallelToolCalls: true,
    tools: [specialFunction, python],
    expected: {
      content: '',
      reasoning: 'I need to call two functions',
      calls: [
        { ...SPECIAL, id: 'functions.special_function:0' },
        { name: 'python', arguments: { code: "print('hey')" }, id: 'functions.python:1' },
      ],
    },
  },
  'Kimi K2 Instruct: plain content (message_assist)': {
    template: 'Kimi-K2-Instruct',
    output: HELLO,
    expected: { content: HELLO },
  },
  'Kimi K2 Instruct: a call with its functions.NAME:N id': {
    template: 'Kimi-K2-Instruct',
    output:
      '<|tool_calls_section_begin|><|tool_call_begin|>functions.special_function:0<|tool_call_argument_begin|>' +
      '{"arg1": 1}<|tool_call_end|><|tool_calls_section_end|>',
    tools: [specialFunction],
    expected: { content: '', calls: [{ ...SPECIAL, id: 'functions.special_function:0' }] },
  },
  'MiniMax-M2: a thought forced open, then content (message_assist_thoughts)': {
    template: 'MiniMax-M2',
    output: `I'm\nthinking\n</think>\n\n${HELLO}`,
    thinking: true,
    expected: { content: HELLO, reasoning: THINKING },
  },
  'MiniMax-M2: a thought, then a call without arguments': {
    template: 'MiniMax-M2',
    output:
      "Let's call a tool:\n</think>\n\n" +
      '<minimax:tool_call>\n<invoke name="empty_args">\n</invoke>\n</minimax:tool_call>',
    thinking: true,
    tools: [emptyArgs],
    expected: { content: '', reasoning: "Let's call a tool:", calls: [{ name: 'empty_args', arguments: {} }] },
  },
  'MiniMax-M2: an <invoke> call (message_assist_call)': {
    template: 'MiniMax-M2',
    output:
      '\n</think>\n\n<minimax:tool_call>\n<invoke name="special_function">\n<parameter ' +
      'name="arg1">1</parameter>\n</invoke>\n</minimax:tool_call>',
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'gpt-oss: the analysis channel, then the final one (message_assist_thoughts)': {
    template: 'openai-gpt-oss-120b',
    output: `<|channel|>analysis<|message|>I'm\nthinking<|end|><|start|>assistant<|channel|>final<|message|>${HELLO}`,
    expected: { content: HELLO, reasoning: THINKING },
  },
  'gpt-oss: a call with its recipient in the role header (message_assist_call)': {
    template: 'openai-gpt-oss-120b',
    output: ' to=functions.special_function<|channel|>analysis<|message|>{"arg1": 1}',
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'gpt-oss: a thought, then a call (message_assist_call_thoughts)': {
    template: 'openai-gpt-oss-120b',
    output:
      "<|channel|>analysis<|message|>I'm\nthinking<|end|>" +
      '<|start|>assistant to=functions.special_function<|channel|>analysis<|message|>{"arg1": 1}',
    tools: [specialFunction],
    expected: { content: '', reasoning: THINKING, calls: [SPECIAL] },
  },
  'Functionary v3.1: plain content (message_assist)': {
    template: 'meetkai-functionary-medium-v3.1',
    output: HELLO,
    expected: { content: HELLO },
  },
  'Functionary v3.1: a <function=…> call (message_assist_call)': {
    template: 'meetkai-functionary-medium-v3.1',
    output: '<function=special_function>{"arg1": 1}</function>',
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'Functionary v3.2: content to the recipient all (message_assist)': {
    template: 'meetkai-functionary-medium-v3.2',
    output: `all\n${HELLO}`,
    expected: { content: HELLO },
  },
  'Functionary v3.2: a call to a recipient (message_assist_call)': {
    template: 'meetkai-functionary-medium-v3.2',
    output: 'special_function\n{"arg1": 1}',
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'FireFunction v2: plain content (message_assist)': {
    template: 'fireworks-ai-llama-3-firefunction-v2',
    output: HELLO,
    expected: { content: HELLO },
  },
  'FireFunction v2: a functools call (message_assist_call)': {
    template: 'fireworks-ai-llama-3-firefunction-v2',
    output: ' functools[{"name": "special_function", "arguments": {"arg1": 1}}]',
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'Hermes 3: a <tool_call> (message_assist_call)': {
    template: 'NousResearch-Hermes-3-Llama-3.1-8B-tool_use',
    output: '<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}\n</tool_call>',
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'Qwen 2.5: a <tool_call> (message_assist_call)': {
    template: 'Qwen-Qwen2.5-7B-Instruct',
    output: '<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}\n</tool_call>',
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'Apertus: a call keyed by the function name (message_assist_call)': {
    template: 'Apertus-8B-Instruct',
    output: '<|tools_prefix|>[{"special_function": {"arg1": 1}}]<|tools_suffix|>',
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'Apriel 1.5: plain content (message_assist)': {
    template: 'unsloth-Apriel-1.5',
    output: HELLO,
    expected: { content: HELLO },
  },
  'Apriel 1.5: a <tool_calls> list (message_assist_call)': {
    template: 'unsloth-Apriel-1.5',
    output: '<tool_calls>[{"name": "special_function", "arguments": {"arg1": 1}}]</tool_calls>',
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'Apriel 1.6 Thinker: a thought forced open, then the final response': {
    template: 'Apriel-1.6-15b-Thinker-fixed',
    output: `I'm\nthinking\n[BEGIN FINAL RESPONSE]\n${HELLO}`,
    thinking: true,
    expected: { content: HELLO, reasoning: "Here are my reasoning steps:\nI'm\nthinking" },
  },
  'Mistral Small 3.2: plain content (message_assist)': {
    template: 'Mistral-Small-3.2-24B-Instruct-2506',
    output: HELLO,
    expected: { content: HELLO },
  },
  'Devstral: a [TOOL_CALLS] call (message_assist_call)': {
    template: 'unsloth-mistral-Devstral-Small-2507',
    output: '[TOOL_CALLS]special_function[ARGS]{"arg1": 1}',
    tools: [specialFunction],
    expected: { content: '', calls: [SPECIAL] },
  },
  'Devstral: content, then a call (message_assist_call_content)': {
    template: 'unsloth-mistral-Devstral-Small-2507',
    output: `${HELLO}[TOOL_CALLS]special_function[ARGS]{"arg1": 1}`,
    tools: [specialFunction],
    expected: { content: HELLO, calls: [SPECIAL] },
  },
  'Reka Edge: a thought forced open, then content (message_assist_thoughts)': {
    template: 'Reka-Edge',
    output: `I'm\nthinking\n</think>\n\n${HELLO}`,
    thinking: true,
    expected: { content: HELLO, reasoning: THINKING },
  },
  'Reka Edge: content, then a call with thinking off (message_assist_call_content)': {
    template: 'Reka-Edge',
    output: `${HELLO}\n<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}\n</tool_call>`,
    thinking: false,
    tools: [specialFunction],
    expected: { content: HELLO, calls: [SPECIAL] },
  },
  'StepFun 3.5 Flash: a thought forced open, then content': {
    template: 'StepFun3.5-Flash',
    output: "I was thinking\n</think>\nNow I'm not.",
    thinking: true,
    expected: { content: "Now I'm not.", reasoning: 'I was thinking' },
  },
  'StepFun 3.5 Flash: a thought, then an XML call with an integer argument': {
    template: 'StepFun3.5-Flash',
    output:
      'Let me call the special function\n</think>\n<tool_call>\n<function=special_function>\n' +
      '<parameter=arg1>\n42555916\n</parameter>\n</function>\n</tool_call>',
    thinking: true,
    tools: [specialFunction],
    expected: {
      content: '',
      reasoning: 'Let me call the special function',
      calls: [{ name: 'special_function', arguments: { arg1: 42555916 } }],
    },
  },
  'GigaChat 3.1: content, then a <|function_call|> (message_assist_call_content)': {
    template: 'GigaChat3.1-10B-A1.8B',
    output: `${HELLO}<|function_call|>{"name": "special_function", "arguments": {"arg1": 1}}`,
    tools: [specialFunction],
    expected: { content: HELLO, calls: [SPECIAL] },
  },
  'MiniCPM5: a thought, then a <function name=…> call': {
    template: 'openbmb-MiniCPM5-1B',
    output: `I'm thinking</think><function name="python"><param name="code">print('hey')</param></function>`,
    thinking: true,
    tools: [python],
    expected: {
      content: '',
      reasoning: "I'm thinking",
      calls: [{ name: 'python', arguments: { code: "print('hey')" } }],
    },
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
