// Tokenizer parity: every case of llama.cpp's own tokenizer vectors (models/ggml-vocab-*.gguf.inp
// and .out) tokenizes to exactly the recorded ids, and detokenizes back to the text.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { LlamaModel } from '../../lib/index.js';
import { readVocabVectors } from '../fixtures/vocab-vectors.js';

const vectors = readVocabVectors();

// Vocabularies whose detokenizer applies llama.cpp's clean_up_tokenization_spaces rule
// (" ?" → "?", " !" → "!", " ." → ".", " ," → ","): llama-vocab.cpp sets it per pre-tokenizer.
const CLEAN_SPACES = new Set(['falcon', 'gemma-4', 'gpt-2', 'llama-bpe', 'mpt', 'refact', 'starcoder']);
// WordPiece (BERT) normalizes its input (lowercase, accents, whitespace): text does not round-trip.
const NORMALIZING = new Set(['bert-bge']);

function cleanSpaces(text: string): string {
  return text.replace(/ ([?!.,])/g, '$1');
}

test('the vectors are there: at least 15 vocabularies of over 40 cases each', () => {
  expect(vectors.length).toBeGreaterThanOrEqual(15);
  for (const vocab of vectors) expect(vocab.cases.length).toBeGreaterThan(40);
});

describe.each(vectors.map((vocab) => [vocab.name, vocab] as const))(
  'LlamaModel.tokenize on ggml-vocab-%s',
  (name, vocab) => {
    let model: LlamaModel;
    beforeAll(async () => {
      model = await LlamaModel.load(vocab.path, { vocabOnly: true });
    });
    afterAll(async () => {
      await model.dispose();
    });

    test('every case tokenizes to the recorded ids (addSpecial: false)', async () => {
      for (const { text, ids } of vocab.cases) {
        expect(await model.tokenize(text, { addSpecial: false }), `text ${JSON.stringify(text)}`).toEqual(ids);
      }
    });

    test.skipIf(NORMALIZING.has(name))('every case detokenizes back to its text', async () => {
      for (const { text, ids } of vocab.cases) {
        const expected = CLEAN_SPACES.has(name) ? cleanSpaces(text) : text;
        expect(await model.detokenize(ids), `ids ${JSON.stringify(ids)}`).toBe(expected);
      }
    });
  },
);
