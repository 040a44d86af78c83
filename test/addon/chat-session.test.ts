// Chat sessions: a turn decodes only what the conversation adds (its reused tokens are exactly the
// prefix its sequence already holds) and answers as a stateless chat() of the same conversation;
// tool handlers run in a loop; save → load (in this process or another) continues exactly as the
// uninterrupted session; bad files are INVALID_SESSION_FILE.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { type ChatMessage, LlamaError, LlamaModel } from '../../lib/index.js';
import { CHATML_TEMPLATE, testModelPath } from '../fixtures/models.js';
import { repoRoot, storiesPath } from '../fixtures/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'llama-napi-session-'));
const greedy = { temperature: 0, maxTokens: 16 } as const;

async function expectCode(promise: Promise<unknown>, code: string, message?: RegExp) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LlamaError);
  expect((error as LlamaError).code).toBe(code);
  if (message !== undefined) expect((error as LlamaError).message).toMatch(message);
}

describe('chat sessions on stories260K', () => {
  let model: LlamaModel;
  beforeAll(async () => {
    model = await LlamaModel.load(storiesPath, { contextSize: 512, threads: 2, sequences: 2 });
  });
  afterAll(() => model.dispose());

  /** The tokens a sequence holds after a turn: its prompt and all it generated but the last token. */
  async function held(history: readonly ChatMessage[], tokens: readonly number[]) {
    const prompt = await model.formatChat(history, { template: CHATML_TEMPLATE });
    const ids = await model.tokenize(prompt, { parseSpecial: true });
    return [...ids, ...tokens.slice(0, -1)];
  }

  function commonPrefix(a: readonly number[], b: readonly number[]) {
    let n = 0;
    while (n < a.length && n < b.length && a[n] === b[n]) n++;
    return n;
  }

  test('each turn reuses the prefix its sequence holds, and answers as stateless chat() does', async () => {
    const session = model.createChatSession({ template: CHATML_TEMPLATE, ...greedy });
    const first = await session.send('Once upon a time');
    expect(first.timings.reusedTokens).toBe(0);
    const afterFirst = await held(session.history.slice(0, 1), first.tokens);
    const second = await session.send('Then what?');
    const prompt2 = await model.tokenize(
      await model.formatChat(session.history.slice(0, 3), { template: CHATML_TEMPLATE }),
      { parseSpecial: true },
    );
    expect(second.timings.promptTokens).toBe(prompt2.length);
    expect(second.timings.reusedTokens).toBe(commonPrefix(afterFirst, prompt2));
    expect(second.timings.reusedTokens).toBeGreaterThan(first.timings.promptTokens / 2);

    const history = session.history;
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(history[3]!.content).toBe(second.text);
    const stateless = await model.chat(history.slice(0, 3), { template: CHATML_TEMPLATE, ...greedy });
    expect(stateless.text).toBe(second.text);
    expect(stateless.tokens).toEqual(second.tokens);
    await session.dispose();
    await expectCode(
      Promise.resolve().then(() => session.send('more')),
      'DISPOSED',
    );
  });

  test('two sessions run in parallel, each on its own sequence', async () => {
    const make = () => model.createChatSession({ template: CHATML_TEMPLATE, system: 'A story.', ...greedy });
    const [a, b] = [make(), make()];
    const [a1, b1] = await Promise.all([a.send('Lily had a cat.'), b.send('Tom had a dog.')]);
    const [a2, b2] = await Promise.all([a.send('What did it do?'), b.send('Where did it go?')]);
    expect(a2.timings.reusedTokens).toBeGreaterThan(a1.timings.promptTokens / 2);
    expect(b2.timings.reusedTokens).toBeGreaterThan(b1.timings.promptTokens / 2);
    const alone = model.createChatSession({ template: CHATML_TEMPLATE, system: 'A story.', ...greedy });
    await alone.send('Lily had a cat.');
    expect((await alone.send('What did it do?')).text).toBe(a2.text);
    await Promise.all([a.dispose(), b.dispose(), alone.dispose()]);
  });

  test("sessions taking turns keep their own sequences: a shared prefix does not take another's", async () => {
    const make = () => model.createChatSession({ template: CHATML_TEMPLATE, system: 'A story.', ...greedy });
    const [a, b] = [make(), make()];
    const a1 = await a.send('Lily had a cat.');
    const b1 = await b.send('Tom had a dog.'); // the free sequence, not a's (which shares the system prompt)
    const a2 = await a.send('What did it do?');
    const b2 = await b.send('Where did it go?');
    expect(a2.timings.reusedTokens).toBeGreaterThanOrEqual(a1.timings.promptTokens);
    expect(b2.timings.reusedTokens).toBeGreaterThanOrEqual(b1.timings.promptTokens);
    await Promise.all([a.dispose(), b.dispose()]);
  });

  test('save → load continues exactly as the uninterrupted session, here and in another process', async () => {
    const session = model.createChatSession({ template: CHATML_TEMPLATE, ...greedy });
    await session.send('Once upon a time');
    await session.send('Then what?');
    const file = join(dir, 'story.session');
    await session.save(file);
    const next = await session.send('And the end?');

    const restored = await model.loadChatSession(file);
    expect(restored.history).toEqual(session.history.slice(0, 4));
    const again = await restored.send('And the end?');
    expect(again.text).toBe(next.text);
    expect(again.tokens).toEqual(next.tokens);
    expect(again.timings.reusedTokens).toBe(next.timings.reusedTokens);

    const child = spawnSync(
      process.execPath,
      [join(repoRoot, 'test', 'fixtures', 'scripts', 'session-continue.mjs'), storiesPath, file, 'And the end?', '2'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(child.status, child.stderr).toBe(0);
    const other = JSON.parse(child.stdout) as { text: string; tokens: number[]; timings: { reusedTokens: number } };
    expect(other.text).toBe(next.text);
    expect(other.tokens).toEqual(next.tokens);
    expect(other.timings.reusedTokens).toBe(next.timings.reusedTokens);
    await Promise.all([session.dispose(), restored.dispose()]);
  });

  test('a damaged, cut-short, foreign, future or other-model file is INVALID_SESSION_FILE', async () => {
    const session = model.createChatSession({ template: CHATML_TEMPLATE, ...greedy });
    await session.send('Once upon a time');
    const file = join(dir, 'good.session');
    await session.save(file);
    await session.dispose();
    const bytes = readFileSync(file);
    const variant = (name: string, data: Uint8Array) => {
      const path = join(dir, name);
      writeFileSync(path, data);
      return path;
    };
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 2)]! ^= 0xff;
    const future = Buffer.from(bytes);
    future.writeUInt32LE(2, 8);
    await expectCode(model.loadChatSession(variant('flipped', flipped)), 'INVALID_SESSION_FILE', /checksum/);
    await expectCode(model.loadChatSession(variant('short', bytes.subarray(0, 100))), 'INVALID_SESSION_FILE');
    await expectCode(model.loadChatSession(variant('empty', new Uint8Array())), 'INVALID_SESSION_FILE');
    await expectCode(
      model.loadChatSession(variant('gguf', readFileSync(storiesPath).subarray(0, 4096))),
      'INVALID_SESSION_FILE',
      /not a chat session/,
    );
    await expectCode(model.loadChatSession(variant('future', future)), 'INVALID_SESSION_FILE', /newer/);
    await expectCode(model.loadChatSession(join(dir, 'missing')), 'INVALID_ARGUMENT');
    // A context of another shape (one sequence, not two) cannot take this memory.
    const single = await LlamaModel.load(storiesPath, { contextSize: 512, threads: 2 });
    try {
      await expectCode(single.loadChatSession(file), 'INVALID_SESSION_FILE', /sequences/);
    } finally {
      await single.dispose();
    }

    const other = await LlamaModel.load(testModelPath('spmF32'), { contextSize: 128, threads: 2 });
    try {
      await expectCode(other.loadChatSession(file), 'INVALID_SESSION_FILE', /another model/);
    } finally {
      await other.dispose();
    }
    // The model still works.
    expect((await model.generate('Once', { ...greedy, maxTokens: 4 })).tokens).toHaveLength(4);
  });
});

describe('tool handlers', () => {
  let model: LlamaModel;
  beforeAll(async () => {
    model = await LlamaModel.load(testModelPath('qwenChat'), { contextSize: 1024, threads: 2 });
  });
  afterAll(() => model.dispose());

  const lookup = {
    name: 'lookup_skill',
    description: 'Whether a skill is in demand',
    parameters: { type: 'object', properties: { skill: { enum: ['typescript', 'go'] } }, required: ['skill'] },
  } as const;

  test("'required' makes the first round call; handlers run, their results go back, rounds are bounded", async () => {
    const calls: unknown[] = [];
    const session = model.createChatSession({
      tools: [
        {
          ...lookup,
          handler: (args) => {
            calls.push(args);
            if (calls.length === 2) throw new Error('service down');
            return { inDemand: true };
          },
        },
      ],
      thinking: false,
      parallelToolCalls: false,
      temperature: 0,
      maxTokens: 200,
      maxToolRounds: 2,
    });
    const result = await session.send('Is TypeScript in demand?', { toolChoice: 'required' });
    const history = session.history;
    expect(history[0]).toEqual({ role: 'user', content: 'Is TypeScript in demand?' });
    expect(history[1]!.role).toBe('assistant');
    expect(history[1]!.toolCalls).toHaveLength(1);
    expect(calls[0]).toEqual(history[1]!.toolCalls![0]!.arguments);
    const tools = history.filter((m) => m.role === 'tool');
    expect(tools[0]!.content).toBe('{"inDemand":true}');
    expect(tools[0]!.toolCallId).toBe(history[1]!.toolCalls![0]!.id);
    // Later rounds are 'auto': the model may answer or call again, at most maxToolRounds rounds run.
    expect(calls.length).toBeLessThanOrEqual(2);
    if (calls.length === 2) expect(tools[1]!.content).toBe('Error: service down');
    expect(history.at(-1)!.role).toBe('assistant');
    expect(history.at(-1)!.content).toBe(result.text);
    await session.dispose();
  });

  test('an abort rejects the turn and leaves the history; dispose during a handler rejects DISPOSED', async () => {
    let release: () => void = () => undefined;
    let started: () => void = () => undefined;
    const called = new Promise<void>((resolve) => (started = resolve));
    const session = model.createChatSession({
      tools: [
        {
          ...lookup,
          handler: () =>
            new Promise<string>((resolve) => {
              release = () => resolve('yes');
              started();
            }),
        },
      ],
      thinking: false,
      parallelToolCalls: false,
      temperature: 0,
      maxTokens: 200,
    });
    const controller = new AbortController();
    controller.abort();
    await expectCode(session.send('Hello', { signal: controller.signal }), 'ABORTED');
    expect(session.history).toEqual([]);

    const turn = session.send('Is Go in demand?', { toolChoice: 'required' });
    await called;
    const disposing = session.dispose();
    release();
    await expectCode(turn, 'DISPOSED');
    await disposing;
    expect((await model.generate('ok', { maxTokens: 2, temperature: 0 })).tokens).toHaveLength(2);
  });

  test('bad options are INVALID_OPTION at once', async () => {
    expect(() => model.createChatSession({ maxToolRounds: -1 })).toThrow(/maxToolRounds/);
    expect(() => model.createChatSession({ tools: [{ ...lookup, handler: 3 as never }] })).toThrow(/handler/);
    expect(() => model.createChatSession({ temperature: -1 })).toThrow(LlamaError);
    expect(() => model.createChatSession({ signal: new AbortController().signal } as never)).toThrow(/send\(\)/);
    await expect(
      model.chat([{ role: 'user', content: 'x' }], { tools: [{ ...lookup, handler: () => 1 } as never] }),
    ).rejects.toThrow(/createChatSession/);
    const session = model.createChatSession();
    expect(() => session.send('x', { template: 'chatml' } as never)).toThrow(/session's/);
  });
});
