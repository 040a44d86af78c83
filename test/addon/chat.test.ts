// Chat: conversations formatted by a model's own template — by llama.cpp's built-in formatting,
// and by the Jinja fallback — exactly as llama.cpp's own tests expect, then answered.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { formatChat, LlamaModel } from '../../lib/index.js';
import { CONVERSATION, readChatCorpus } from '../fixtures/chat-corpus.js';
import { CHATML_TEMPLATE, testModelPath } from '../fixtures/models.js';

const corpus = readChatCorpus();

test("the corpus is there: llama.cpp's chat-template tests", () => {
  expect(corpus.length).toBeGreaterThanOrEqual(30);
});

describe.each(corpus.map((c) => [c.name, c] as const))('formatChat: %s', (_name, chatCase) => {
  const conversation = [...CONVERSATION, ...chatCase.extraConversation];

  test("llama.cpp's built-in formatting gives llama.cpp's expected text", () => {
    expect(formatChat(chatCase.template, conversation, { engine: 'llama.cpp' })).toBe(chatCase.expected);
  });

  test.skipIf(!chatCase.supportedWithJinja)("the Jinja fallback gives llama.cpp's expected Jinja text", () => {
    const output = formatChat(chatCase.template, conversation, {
      engine: 'jinja',
      bosToken: chatCase.bosToken,
      eosToken: chatCase.eosToken,
    });
    expect(output).toBe(chatCase.expectedJinja || chatCase.expected);
  });
});

describe('LlamaModel.chat', () => {
  let model: LlamaModel;
  beforeAll(async () => {
    model = await LlamaModel.load(testModelPath('spmChat'), { contextSize: 512, sequences: 2 });
  });
  afterAll(async () => {
    await model.dispose();
  });

  const messages = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Name a color.' },
  ];

  test("the model's own template (from its GGUF metadata) formats the conversation", async () => {
    expect(model.info.chatTemplate).toBe(CHATML_TEMPLATE);
    expect(await model.formatChat(messages)).toBe(
      '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nName a color.<|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
  });

  test('chat() generates exactly what generate() does on the formatted prompt', async () => {
    const expected = await model.generate(await model.formatChat(messages), { temperature: 0, maxTokens: 16 });
    const answer = await model.chat(messages, { temperature: 0, maxTokens: 16 });
    expect(answer.tokens).toEqual(expected.tokens);
    expect(answer.text).toBe(expected.text);
    const streamed: number[] = [];
    for await (const chunk of model.streamChat(messages, { temperature: 0, maxTokens: 16 })) streamed.push(chunk.token);
    expect(streamed).toEqual(expected.tokens);
  });

  test('chat() with a JSON schema returns validated JSON', async () => {
    const answer = await model.chat(messages, {
      temperature: 0,
      maxTokens: 100,
      jsonSchema: {
        type: 'object',
        properties: { color: { enum: ['red', 'green', 'blue'] } },
        required: ['color'],
        additionalProperties: false,
      },
    });
    expect(['red', 'green', 'blue']).toContain((answer.json as { color: string }).color);
  });

  test("a template name or text can be given instead of the model's", async () => {
    expect(await model.formatChat(messages, { template: 'llama3' })).toMatch(
      /^<\|start_header_id\|>system<\|end_header_id\|>\n\nYou are terse\.<\|eot_id\|>/,
    );
  });

  test('bad conversations and templates are typed errors', async () => {
    await expect(model.chat([] as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(model.chat([{ role: 'user' }] as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(model.formatChat(messages, { template: '{% for %}' })).rejects.toMatchObject({
      code: 'INVALID_CHAT_TEMPLATE',
      message: expect.stringMatching(/does not parse/),
    });
    await expect(model.formatChat(messages, { template: 'no-such-name' })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await using plain = await LlamaModel.load(testModelPath('spmF32'), { contextSize: 64 });
    await expect(plain.formatChat(messages)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/no chat template/),
    });
    expect(await plain.formatChat(messages, { template: 'chatml' })).toBe(await model.formatChat(messages));
  });
});
