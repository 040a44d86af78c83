#!/usr/bin/env node
// Does every output a grammar admits pass the validation after it? Sampled runs on several models
// (vocabularies): the job-application provider's parseJob (validated by zod), and
// generate({ jsonSchema }) with strings at their length bounds (validated by ajv, then by zod and by
// JavaScript's .length), each run's bytes checked to be valid UTF-8. A run cut short by its token
// limit is counted apart: it is not a disagreement.
//
// Usage: npm run build && node scripts/grammar-validity.mjs [--runs N] [model.gguf ...]
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { LlamaModel, LocalProvider, AiProviderError } = await import(join(root, 'dist', 'index.js'));
const { loadAddon } = await import(join(root, 'dist', 'native.js'));
const { JobPostingSchema } = await import(join(root, 'dist', 'provider', 'schemas.js'));
const { z } = await import('zod');

const args = process.argv.slice(2);
const runsIndex = args.indexOf('--runs');
const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : 16;
const given = args.filter((arg, i) => arg !== '--runs' && i !== runsIndex + 1);
const models =
  given.length > 0
    ? given
    : [
        join(root, 'test', '.models', 'spmF32.gguf'),
        join(root, 'test', '.models', 'bpeF32.gguf'),
        join(root, '..', 'shared', 'models', 'stories260K.gguf'),
      ].filter(existsSync);

const strict = new TextDecoder('utf-8', { fatal: true });
const addon = loadAddon();
await addon.initBackend();

const posting = `Senior Backend Engineer — Acme Corp (Berlin, hybrid)
We build payment APIs. You will design services in Go and TypeScript, run PostgreSQL and Kafka,
and mentor two engineers. Requirements: 5+ years backend, distributed systems, SQL. Nice to have:
Kubernetes, Rust. Full-time, 80,000–100,000 EUR per year.`;

const schema = {
  type: 'object',
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 40 },
    tags: { type: 'array', items: { type: 'string', maxLength: 12 }, maxItems: 4 },
  },
  required: ['title', 'tags'],
  additionalProperties: false,
};
const zodSchema = z.object({ title: z.string().min(1).max(40), tags: z.array(z.string().max(12)).max(4) }).strict();

console.log(`${runs} sampled runs per model and operation\n`);
console.log('| model | operation | valid | cut short | rejected after the grammar admitted it | invalid UTF-8 |');
console.log('|---|---|---|---|---|---|');
let disagreements = 0;
for (const path of models) {
  const name = path.split('/').pop();
  const vocab = await addon.loadModel(path, { vocabOnly: true });
  const bytesOf = async (tokens) => Buffer.concat(await vocab.tokenToPiece(tokens, { special: false }));

  // generate({ jsonSchema })
  const model = await LlamaModel.load(path, { contextSize: 512, sequences: 4, threads: 2 });
  const counts = { valid: 0, cut: 0, rejected: 0, utf8: 0 };
  await Promise.all(
    Array.from({ length: runs }, async (_, seed) => {
      try {
        const result = await model.generate('JSON: ', { jsonSchema: schema, temperature: 1.5, seed, maxTokens: 300 });
        try {
          strict.decode(await bytesOf(result.tokens));
        } catch {
          counts.utf8++;
        }
        const ok = zodSchema.safeParse(result.json).success && result.json.title.length <= 40;
        ok ? counts.valid++ : counts.rejected++;
      } catch (error) {
        if (error.code === 'INVALID_JSON_OUTPUT' && /stopped \(maxTokens|contextFull/.test(error.message)) counts.cut++;
        else counts.rejected++;
      }
    }),
  );
  await model.dispose();
  console.log(
    `| ${name} | generate({ jsonSchema }) | ${counts.valid} | ${counts.cut} | ${counts.rejected} | ${counts.utf8} |`,
  );
  disagreements += counts.rejected + counts.utf8;

  // LocalProvider.parseJob
  const provider = LocalProvider.withModelPath(path, { contextSize: 2048, sequences: 4, threads: 2, temperature: 1 });
  const job = { valid: 0, cut: 0, rejected: 0, utf8: 0 };
  await Promise.all(
    Array.from({ length: runs }, async () => {
      try {
        const parsed = await provider.parseJob(posting, { maxTokens: 600 });
        JobPostingSchema.parse(parsed);
        job.valid++;
      } catch (error) {
        if (error instanceof AiProviderError && /stopped|maxTokens|contextFull|complete/.test(error.message)) job.cut++;
        else {
          job.rejected++;
          console.error(`  ${name} parseJob: ${error.code}: ${String(error.message).slice(0, 200)}`);
        }
      }
    }),
  );
  await provider.unload();
  console.log(`| ${name} | parseJob | ${job.valid} | ${job.cut} | ${job.rejected} | — |`);
  disagreements += job.rejected;
  vocab.dispose();
}
console.log(`\n${disagreements} disagreements`);
process.exit(disagreements === 0 ? 0 : 1);
