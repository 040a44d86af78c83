// GGUF fuzzing, fast subset (the full run — 10,000 mutants — is `npm run fuzz`): mutants of a valid
// tiny model, loaded and run through the public API in child processes. None may crash, hang or
// fail with anything but a typed LlamaError.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, expect, test } from 'vitest';

import { mutants, readSeed, writeSeedModel, writeTinyVocab } from '../fixtures/fuzz.js';
import { runMutants, type FuzzOutcome } from '../fixtures/fuzz-runner.js';

const scratch = mkdtempSync(join(tmpdir(), 'llama-napi-fuzz-'));
const seedPath = join(scratch, 'seed.gguf');
const count = Number(process.env.LLAMA_NAPI_FUZZ_MUTANTS ?? 400);

beforeAll(async () => {
  writeTinyVocab(join(scratch, 'vocab.gguf'));
  await writeSeedModel(seedPath, join(scratch, 'vocab.gguf'));
});

test.each([
  ['LlamaModel', 'model', 7],
  ['the raw addon', 'raw', 23],
] as const)(
  `${count} GGUF mutants through %s: no crash, no hang, only typed errors`,
  async (_api, mode, salt) => {
    const seed = readSeed(seedPath);
    const set = mutants(seed, count, salt);
    const outcomes = await runMutants(set, join(scratch, `mutants-${mode}`), { mode });
    const tally = (kind: FuzzOutcome['result']) => outcomes.filter((o) => o.result === kind);
    const summary = Object.fromEntries(
      (['ok', 'error', 'untyped', 'crash', 'hang'] as const).map((k) => [k, tally(k).length]),
    );
    console.log(`fuzz (${mode}): ${count} mutants →`, summary);
    expect(outcomes).toHaveLength(count);
    expect(tally('crash').map((o) => `${o.name}: ${o.detail}`)).toEqual([]);
    expect(tally('hang').map((o) => o.name)).toEqual([]);
    expect(tally('untyped').map((o) => `${o.name}: ${o.detail}`)).toEqual([]);
    // The mutants reach both outcomes: some still load, most are refused.
    expect(tally('ok').length).toBeGreaterThan(0);
    expect(tally('error').length).toBeGreaterThan(count / 4);
  },
  600_000,
);
