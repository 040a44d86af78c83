// The real trained model ../shared/models/stories260K.gguf (a tiny llama with GQA trained on
// children's stories): greedy output is real text and must equal llama.cpp's own, token for token.
// Skipped, with a message, where the file is absent (a user's fresh clone).
import { describe, expect, test } from 'vitest';

import { LlamaModel } from '../../lib/index.js';
import { runLlamaSimple } from '../fixtures/oracle.js';
import { pieceBytes } from '../fixtures/pieces.js';
import { haveStories, storiesPath, storiesSkipMessage } from '../fixtures/paths.js';

if (!haveStories) console.warn(storiesSkipMessage);

describe.skipIf(!haveStories)('stories260K (real weights)', () => {
  test('greedy generation prints the story llama.cpp prints', async () => {
    await using model = await LlamaModel.load(storiesPath, { contextSize: 256, threads: 1 });
    const result = await model.generate('Once upon a time', { temperature: 0, maxTokens: 48 });
    expect(result.text).toBe(
      ', there was a little girl named Lily. She loved to play outside in the park. ' +
        'One day, she saw a big, red ball. She wanted to play with it,',
    );
    expect(result.tokens).toHaveLength(48);
    expect(result.stopReason).toBe('maxTokens');
  });

  test('token for token equal to llama-simple over a longer run', async () => {
    const prompt = 'One day, a little boy named Tim';
    const expected = runLlamaSimple(storiesPath, prompt, 200);
    await using model = await LlamaModel.load(storiesPath, { contextSize: 512 });
    const result = await model.generate(prompt, { temperature: 0, maxTokens: 200 });
    const promptTokens = await model.tokenize(prompt, { parseSpecial: true });
    const ours = Buffer.concat([
      await pieceBytes(storiesPath, promptTokens, true),
      await pieceBytes(storiesPath, result.tokens, true),
      Buffer.from('\n'),
    ]);
    expect(ours.toString('utf8')).toBe(expected.toString('utf8'));
  });

  test('model info', async () => {
    await using model = await LlamaModel.load(storiesPath, { contextSize: 128 });
    expect(model.info).toMatchObject({
      architecture: 'llama',
      parameters: 292800,
      contextTrain: 2048,
      vocabSize: 512,
      layerCount: 5,
      headCount: 8,
      headCountKv: 4,
      tokens: { bos: 1, eos: 2 },
    });
    expect(await model.tokenize('Once upon a time')).toEqual([1, 403, 407, 261, 378]);
    expect(await model.detokenize([403, 407, 261, 378])).toBe('Once upon a time');
  });
});
