// Tools and reasoning through llama.cpp's chat layer (common/chat). Every template of llama.cpp's
// corpus is given a tool under toolChoice 'required' on random weights: the families whose answer
// the grammar opens with the call must give a call that parses and matches the tool's schema; the
// others end without one (the model thinks or writes first) or with a typed error — never a crash,
// never an invalid call returned. Reasoning goes to `reasoning`, never into `text`.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import {
  type ChatResult,
  type ChatTool,
  type ToolCall,
  JobPostingSchema,
  LlamaError,
  LlamaModel,
  LocalProvider,
} from '../../lib/index.js';
import { createRandomLlama, gguf } from '../../lib/gguf/index.js';
import { corpusTemplate, testModelPath } from '../fixtures/models.js';
import { llamaCppDir, vocabPath } from '../fixtures/paths.js';

const templates = readdirSync(join(llamaCppDir, 'models', 'templates'))
  .filter((file) => file.endsWith('.jinja'))
  .map((file) => file.slice(0, -'.jinja'.length))
  .sort();

/** The families whose required call comes first, so random weights make it (24 of the corpus). */
const CALLING = [
  'Apertus-8B-Instruct',
  'Bielik-11B-v3.0-Instruct',
  'GigaChat3-10B-A1.8B',
  'GigaChat3.1-10B-A1.8B',
  'MiMo-VL',
  'MiniMax-M1',
  'NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use',
  'NousResearch-Hermes-3-Llama-3.1-8B-tool_use',
  'Qwen-QwQ-32B',
  'Qwen-Qwen2.5-7B-Instruct',
  'Qwen-Qwen3-0.6B',
  'deepseek-ai-DeepSeek-V3.1',
  'fireworks-ai-llama-3-firefunction-v2',
  'ibm-granite-granite-4.0',
  'ibm-granite-granite-4.1',
  'meetkai-functionary-medium-v3.1',
  'meta-llama-Llama-3.1-8B-Instruct',
  'meta-llama-Llama-3.2-3B-Instruct',
  'meta-llama-Llama-3.3-70B-Instruct',
  'mistralai-Ministral-3-14B-Reasoning-2512',
  'mistralai-Mistral-Nemo-Instruct-2407',
  'unsloth-Apriel-1.5',
  'unsloth-mistral-Devstral-Small-2507',
  'upstage-Solar-Open-100B',
];

const weather: ChatTool = {
  name: 'get_weather',
  description: 'The current weather of a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', maxLength: 20 }, unit: { enum: ['celsius', 'fahrenheit'] } },
    required: ['city', 'unit'],
    additionalProperties: false,
  },
};
const time: ChatTool = {
  name: 'get_time',
  description: 'The time in a time zone',
  parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] },
};
const question = [{ role: 'user', content: 'What is the weather in Paris?' }];

function expectWeatherCall(result: ChatResult): void {
  expect(result.stopReason).toBe('toolCalls');
  expect(result.toolCalls).toHaveLength(1);
  const call = result.toolCalls[0] as ToolCall;
  expect(call.name).toBe('get_weather');
  expect(call.id).toMatch(/\S/);
  expect(Object.keys(call.arguments).sort()).toEqual(['city', 'unit']);
  expect(typeof call.arguments.city).toBe('string');
  // JSON Schema's maxLength counts code points (an astral character is one), as llama.cpp's grammar does.
  expect([...(call.arguments.city as string)].length).toBeLessThanOrEqual(20);
  expect(['celsius', 'fahrenheit']).toContain(call.arguments.unit);
}

let model: LlamaModel;
beforeAll(async () => {
  model = await LlamaModel.load(testModelPath('qwenChat'), { contextSize: 4096, sequences: 1 });
});
afterAll(async () => {
  await model?.dispose();
});

describe.each(templates)('required tool call: %s', (name) => {
  test(CALLING.includes(name) ? 'a schema-valid call' : 'a valid call, no call, or a typed error', async () => {
    const attempt = model.chat(question, {
      template: corpusTemplate(name),
      tools: [weather],
      toolChoice: 'required',
      thinking: false,
      parallelToolCalls: false,
      temperature: 0,
      maxTokens: 120,
    });
    if (CALLING.includes(name)) {
      expectWeatherCall(await attempt);
      return;
    }
    const outcome = await attempt.then(
      (result) => result,
      (error: unknown) => error,
    );
    if (outcome instanceof LlamaError) {
      // A template llama.cpp cannot analyze for tools, or a call its grammar let through that the
      // tool's schema rejects: typed, never returned as a call.
      expect(['INVALID_CHAT_TEMPLATE', 'INVALID_TOOL_CALL']).toContain(outcome.code);
    } else {
      const result = outcome as ChatResult;
      if (result.toolCalls.length > 0) expectWeatherCall(result);
      else expect(result.stopReason).toBe('maxTokens');
    }
  });
});

describe('chat() with tools', () => {
  test('the Qwen3 template formats the tools into the prompt, and its answer parses into a call', async () => {
    const result = await model.chat(question, {
      tools: [weather, time],
      toolChoice: { name: 'get_weather' },
      thinking: false,
      parallelToolCalls: false,
      temperature: 0,
      maxTokens: 120,
    });
    expectWeatherCall(result);
    expect(result.text).toBe('');
    expect(result.text).not.toContain('<tool_call>');
  });

  test("a call the tool's schema rejects is INVALID_TOOL_CALL", async () => {
    await expect(
      model.chat(question, {
        template: corpusTemplate('openbmb-MiniCPM5-1B'),
        tools: [weather],
        toolChoice: 'required',
        thinking: false,
        parallelToolCalls: false,
        temperature: 0,
        maxTokens: 120,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_TOOL_CALL', message: expect.stringMatching(/get_weather.*parameters/) });
  });

  test("toolChoice 'none' and no tools leave the answer free", async () => {
    const free = await model.chat(question, { temperature: 0, maxTokens: 8 });
    const none = await model.chat(question, { tools: [weather], toolChoice: 'none', temperature: 0, maxTokens: 8 });
    expect(free.toolCalls).toEqual([]);
    expect(none.toolCalls).toEqual([]);
    expect(free.tokens).toHaveLength(8);
  });

  test('bad tool options are INVALID_OPTION before anything runs', async () => {
    const bad = (options: object) => model.chat(question, { maxTokens: 4, ...options });
    await expect(bad({ tools: [{ name: 'has space' }] })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(bad({ tools: [weather, weather] })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(bad({ tools: [{ name: 'x', parameters: [] }] })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(bad({ tools: [weather], toolChoice: { name: 'nope' } })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await expect(bad({ tools: [weather], toolChoice: 'sometimes' })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(bad({ tools: [weather], template: 'llama3' })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/Jinja/),
    });
    await expect(bad({ tools: [weather], jsonSchema: { type: 'object' } })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await expect(bad({ jsonSchema: { type: 'object' }, thinking: true })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await expect(bad({ template: '{% for x in %}' })).rejects.toMatchObject({ code: 'INVALID_CHAT_TEMPLATE' });
  });
});

describe('reasoning', () => {
  test('a thought goes to reasoning, never into text', async () => {
    // The template opens a thought in the generation prompt: all the model writes is thought.
    const result = await model.chat(question, {
      template: corpusTemplate('llama-cpp-deepseek-r1'),
      temperature: 0,
      maxTokens: 24,
    });
    expect(result.reasoning?.length ?? 0).toBeGreaterThan(0);
    expect(result.text).toBe('');
    expect(result.tokens).toHaveLength(24);
  });

  test("a streamed tool call's markup is neither answer nor thought", async () => {
    const stream = model.streamChat(question, {
      template: corpusTemplate('Qwen-Qwen2.5-7B-Instruct'),
      tools: [weather],
      toolChoice: 'required',
      thinking: false,
      parallelToolCalls: false,
      temperature: 0,
      maxTokens: 120,
    });
    let content = '';
    let raw = '';
    for await (const chunk of stream) {
      content += chunk.content;
      raw += chunk.text;
    }
    const result = await stream.result;
    expectWeatherCall(result);
    expect(raw).toContain('<tool_call>');
    expect(content).toBe(result.text);
    expect(content).not.toContain('<tool_call>');
  });

  test('thinking: false renders the template without a thought (enable_thinking)', async () => {
    const on = await model.chat(question, { temperature: 0, maxTokens: 4 });
    const off = await model.chat(question, { temperature: 0, maxTokens: 4, thinking: false });
    expect(on.timings.promptTokens).toBeLessThan(off.timings.promptTokens);
  });

  test('jsonSchema under a reasoning template: valid JSON, thinking off', async () => {
    const answer = await model.chat(question, {
      temperature: 0,
      maxTokens: 200,
      jsonSchema: {
        type: 'object',
        properties: { city: { type: 'string', maxLength: 12 } },
        required: ['city'],
        additionalProperties: false,
      },
    });
    expect(typeof answer.json.city).toBe('string');
    expect(answer.reasoning).toBeUndefined();
  });

  test("the provider's operations are schema-valid under a Qwen3-style template", async () => {
    const provider = new LocalProvider({ modelPath: testModelPath('qwenChat'), temperature: 0, contextSize: 4096 });
    try {
      const job = await provider.parseJob('Senior Backend Engineer at Lumen Health, Berlin. TypeScript, PostgreSQL.');
      expect(JobPostingSchema.parse(job)).toEqual(job);
    } finally {
      await provider.unload();
    }
  });
});

describe("thinkingBudget: the thought ends after that many tokens (llama.cpp's reasoning budget)", () => {
  // DeepSeek-R1's template opens the answer with "<think>\n": the budget counts from the tag, so the
  // template's newline is its first token and the model writes budget - 1 before "</think>" is
  // forced. <think> and </think> are single tokens of this vocabulary, as of a reasoning model.
  let thinker: LlamaModel;
  let close: number[];
  beforeAll(async () => {
    thinker = await LlamaModel.load(testModelPath('qwenThink'), { contextSize: 1024, sequences: 1 });
    close = await thinker.tokenize('</think>', { addSpecial: false, parseSpecial: true });
  });
  afterAll(async () => {
    await thinker?.dispose();
  });

  test.each([
    ['greedy', { temperature: 0 }],
    ['sampled', { temperature: 0.9, seed: 11 }],
  ])('%s: the same tokens up to the budget, then the closing tag', async (_name, sampling) => {
    expect(close).toHaveLength(1);
    const free = await thinker.chat(question, { ...sampling, maxTokens: 24 });
    expect(free.tokens).not.toContain(close[0]); // the model would think on
    expect(free.text).toBe('');
    for (const budget of [1, 4, 9]) {
      const bounded = await thinker.chat(question, { ...sampling, maxTokens: 24, thinkingBudget: budget });
      expect(bounded.tokens.slice(0, budget - 1)).toEqual(free.tokens.slice(0, budget - 1));
      expect(bounded.tokens[budget - 1]).toBe(close[0]);
      expect(bounded.tokens).toHaveLength(24);
      const thought = await thinker.detokenize(free.tokens.slice(0, budget - 1));
      expect((bounded.reasoning ?? '').trim()).toBe(thought.trim());
      expect(bounded.text.length).toBeGreaterThan(0);
    }
  });

  test('0 closes the thought at once; a budget the thought stays within changes nothing', async () => {
    const none = await thinker.chat(question, { temperature: 0, maxTokens: 8, thinkingBudget: 0 });
    expect(none.tokens[0]).toBe(close[0]);
    expect(none.reasoning).toBeUndefined();
    const free = await thinker.chat(question, { temperature: 0, maxTokens: 24 });
    const roomy = await thinker.chat(question, { temperature: 0, maxTokens: 24, thinkingBudget: 100 });
    expect(roomy.tokens).toEqual(free.tokens);
  });

  test("streamChat's chunks tell the thought from the answer, as the result does", async () => {
    const stream = thinker.streamChat(question, { temperature: 0, maxTokens: 24, thinkingBudget: 6 });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const result = await stream.result;
    expect(chunks.map((chunk) => chunk.token).slice(0, 24)).toEqual(result.tokens);
    expect(chunks.map((chunk) => chunk.content).join('')).toBe(result.text);
    expect(chunks.map((chunk) => chunk.reasoning).join('')).toBe(result.reasoning);
    // Before the closing tag all is thought; after it, all is answer.
    const closing = chunks.findIndex((chunk) => chunk.token === close[0]);
    expect(closing).toBe(5);
    expect(chunks.slice(0, closing).every((chunk) => chunk.content === '' && chunk.reasoning !== '')).toBe(true);
    expect(chunks.slice(closing + 1).every((chunk) => chunk.reasoning === '')).toBe(true);
    // chat()'s onToken gets the same chunks.
    const seen: string[] = [];
    await thinker.chat(question, {
      temperature: 0,
      maxTokens: 24,
      thinkingBudget: 6,
      onToken: (chunk) => seen.push(`${chunk.reasoning}|${chunk.content}`),
    });
    expect(seen).toEqual(chunks.map((chunk) => `${chunk.reasoning}|${chunk.content}`));
  });

  test('a session default, and bad values', async () => {
    const session = thinker.createChatSession({ temperature: 0, maxTokens: 6, thinkingBudget: 3 });
    const first = await session.send('Hello');
    expect(first.tokens[2]).toBe(close[0]);
    const second = await session.send('And then?', { thinkingBudget: 1 });
    expect(second.tokens[0]).toBe(close[0]);
    await session.dispose();
    for (const thinkingBudget of [-1, 1.5, '3', Number.NaN]) {
      await expect(thinker.chat(question, { maxTokens: 2, thinkingBudget } as object)).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        message: expect.stringMatching(/thinkingBudget/),
      });
    }
  });
});

describe('a chat template is code from a stranger', () => {
  const HOSTILE = {
    'grows a string without end':
      "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    'repeats a string a trillion times': "{{ 'x' * 1000000000000 }}",
    'loops for ever': '{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}',
    'recurses without end': '{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}',
    'nests a hundred thousand parentheses': `{{ ${'('.repeat(100_000)}1${')'.repeat(100_000)} }}`,
    'negates a hundred thousand times': `{{ ${'not '.repeat(100_000)}true }}`,
  };
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'llama-napi-hostile-template-'));
  });
  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  test.each(Object.entries(HOSTILE))(
    'a model file whose template %s: INVALID_CHAT_TEMPLATE, and the process lives on',
    async (name, template) => {
      const path = join(folder, `${name.replaceAll(' ', '-')}.gguf`);
      await createRandomLlama({
        vocabPath: vocabPath('llama-spm'),
        outputPath: path,
        embeddingLength: 32,
        layerCount: 1,
        headCount: 2,
        feedForwardLength: 64,
        seed: 3,
        metadata: [['tokenizer.chat_template', gguf.str(template)]],
      });
      const hostile = await LlamaModel.load(path, { contextSize: 256 });
      try {
        await expect(hostile.chat(question, { maxTokens: 2 })).rejects.toMatchObject({
          code: 'INVALID_CHAT_TEMPLATE',
        });
        await expect(hostile.formatChat(question)).rejects.toMatchObject({ code: 'INVALID_CHAT_TEMPLATE' });
        // The model and the process go on: another template answers.
        const answer = await hostile.chat(question, { template: 'chatml', temperature: 0, maxTokens: 3 });
        expect(answer.tokens).toHaveLength(3);
      } finally {
        await hostile.dispose();
      }
    },
    120_000,
  );
});
