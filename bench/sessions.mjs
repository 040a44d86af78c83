#!/usr/bin/env node
// Chat sessions: what keeping a conversation's memory saves. A conversation of --turns turns is
// answered turn by turn by a ChatSession and, in the same run, by stateless chat() calls of the same
// conversation on a second copy of the model whose memory holds nothing of it (each call decodes the
// whole conversation). Per turn: prompt tokens, tokens decoded and prompt milliseconds of both, and
// their ratio. Then save → restore: model.loadChatSession() and the next turn, in this process,
// against a stateless chat() of the whole conversation. Every session answer is checked against the
// stateless one (greedy: the same text); a difference is reported.
//
// The default model is stories260K with a ChatML template; --model takes any chat model (its own
// template). Medians of --rounds runs of the whole conversation.
//
// Usage: npm run bench:sessions [-- --turns 8 --rounds 3 --tokens 48 --threads 2 --model M.gguf]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { LlamaModel } from '../dist/index.js';
import { fmt, median, ratio, tableRow } from './measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stories = join(root, '..', 'shared', 'models', 'stories260K.gguf');
const CHATML =
  "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const QUESTIONS = [
  'Tell me a story about a cat.',
  'What did the cat find?',
  'Who came to help?',
  'Where did they go next?',
  'What was in the box?',
  'How did the day end?',
  'What did they learn?',
  'Tell me what happened the next morning.',
  'Who was the happiest?',
  'How does the story end?',
];

const { values: args } = parseArgs({
  options: {
    turns: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    tokens: { type: 'string', default: '48' },
    threads: { type: 'string', default: '2' },
    model: { type: 'string' },
  },
});
const turns = Math.min(Number(args.turns), QUESTIONS.length);
const rounds = Number(args.rounds);
const path = args.model ?? stories;
const load = { contextSize: 8192, sequences: 1, threads: Number(args.threads) };
const chatOptions = { temperature: 0, maxTokens: Number(args.tokens), ...(args.model ? {} : { template: CHATML }) };
const system = 'You tell short stories.';

const sessionModel = await LlamaModel.load(path, load);
const statelessModel = await LlamaModel.load(path, load);
const dir = mkdtempSync(join(tmpdir(), 'llama-napi-bench-sessions-'));
const perTurn = Array.from({ length: turns }, () => ({ session: [], stateless: [], decoded: 0, prompt: 0 }));
const restore = { load: [], turn: [], redecode: [], same: true, historyTokens: 0 };
let differences = 0;

/** A stateless chat() of `messages` from empty memory: an unrelated prompt first takes the sequence. */
async function stateless(messages) {
  await statelessModel.generate('Unrelated.', { maxTokens: 1 });
  return statelessModel.chat(messages, chatOptions);
}

try {
  // Warm both up (the first decode of a context is slower).
  await sessionModel.chat([{ role: 'user', content: 'Hello.' }], chatOptions);
  await statelessModel.chat([{ role: 'user', content: 'Hello.' }], chatOptions);
  for (let round = 0; round < rounds; round++) {
    await sessionModel.generate('Unrelated.', { maxTokens: 1 }); // nothing of the conversation in memory
    const session = sessionModel.createChatSession({ system, ...chatOptions });
    const file = join(dir, `round-${round}.session`);
    for (let turn = 0; turn < turns; turn++) {
      const before = [...session.history];
      const mine = await session.send(QUESTIONS[turn]);
      const theirs = await stateless([...before, { role: 'user', content: QUESTIONS[turn] }]);
      if (mine.text !== theirs.text) differences++;
      const entry = perTurn[turn];
      entry.session.push(mine.timings.promptMs);
      entry.stateless.push(theirs.timings.promptMs);
      entry.decoded = mine.timings.promptTokens - mine.timings.reusedTokens;
      entry.prompt = mine.timings.promptTokens;
      if (turn === turns - 2) await session.save(file);
    }
    // Restore the conversation as it was before the last turn, and answer that turn again.
    const last = QUESTIONS[turns - 1];
    const expected = session.history.at(-1).content;
    const history = session.history.slice(0, -2);
    await session.dispose();
    await sessionModel.generate('Unrelated.', { maxTokens: 1 }); // the sequence holds nothing of it now
    const loadStart = performance.now();
    const restored = await sessionModel.loadChatSession(file);
    restore.load.push(performance.now() - loadStart);
    const again = await restored.send(last);
    restore.turn.push(again.timings.promptMs);
    restore.historyTokens = again.timings.promptTokens;
    if (again.text !== expected) restore.same = false;
    await restored.dispose();
    const redecoded = await stateless([...history, { role: 'user', content: last }]);
    restore.redecode.push(redecoded.timings.promptMs);
  }
} finally {
  await sessionModel.dispose();
  await statelessModel.dispose();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `# Chat sessions: ${path.split('/').at(-1)}, ${turns} turns, ${args.tokens} tokens an answer, medians of ${rounds}`,
);
console.log();
console.log(
  tableRow(['turn', 'prompt tokens', 'session decodes', 'session ms', 'stateless ms', 'stateless / session']),
);
console.log(tableRow(['---:', '---:', '---:', '---:', '---:', '---:']));
perTurn.forEach((entry, turn) => {
  const mine = median(entry.session);
  const theirs = median(entry.stateless);
  console.log(tableRow([turn + 1, entry.prompt, entry.decoded, fmt(mine), fmt(theirs), ratio(theirs, mine)]));
});
const restoreMs = median(restore.load) + median(restore.turn);
console.log();
console.log(
  `restore (loadChatSession ${fmt(median(restore.load))} ms + the turn's prompt ${fmt(median(restore.turn))} ms) ` +
    `vs decoding the ${restore.historyTokens}-token conversation again (${fmt(median(restore.redecode))} ms): ` +
    `${ratio(median(restore.redecode), restoreMs)} faster; same answer: ${restore.same ? 'yes' : 'NO'}`,
);
console.log(`session answers that differ from stateless chat(): ${differences} of ${turns * rounds}`);
