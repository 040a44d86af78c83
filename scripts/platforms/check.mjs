// What `npm run test:platforms` runs on each platform's own Node, from an app that installed the
// packed llama-napi: `node check.mjs <settings.json> <result.json>`. It writes its findings as
// JSON to <result.json> (Node for Windows under wine cannot write to a pipe) and exits 0 when it
// got that far; the caller compares the findings with the same program's run on linux-x64.
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

import { JobPostingSchema, LlamaError, LlamaModel, LocalProvider, setLogLevel } from 'llama-napi';
import { loadAddon } from 'llama-napi/native';

const [settingsFile, resultFile] = process.argv.slice(2);
const settings = JSON.parse(await readFile(settingsFile, 'utf8'));
const result = { platform: `${process.platform}-${process.arch}`, node: process.version, seconds: {}, checks: {} };
const save = () => writeFileSync(resultFile, `${JSON.stringify(result, null, 2)}\n`);
setLogLevel('error');

async function step(name, run) {
  const started = performance.now();
  try {
    result.checks[name] = await run();
  } catch (error) {
    result.checks[name] = { threw: `${error?.code ?? error?.name}: ${error?.message}` };
  }
  result.seconds[name] = Number(((performance.now() - started) / 1000).toFixed(2));
  save();
}

/** llama.cpp's tokenizer vectors (models/ggml-vocab-NAME.gguf.inp/.out), as tests/test-tokenizer-0 reads them. */
async function vectors(path) {
  const inputs = (await readFile(`${path}.inp`, 'utf8')).split('\n__ggml_vocab_test__\n');
  if (inputs.at(-1) === '') inputs.pop(); // the file ends with a separator
  const outputs = (await readFile(`${path}.out`, 'utf8')).split('\n');
  if (outputs.at(-1) === '') outputs.pop();
  return inputs.map((text, i) => ({ text, ids: outputs[i].trim().split(' ').filter(Boolean).map(Number) }));
}

await step('addon', () => {
  const addon = loadAddon();
  const cpu = addon.devices().find((device) => device.type === 'cpu');
  return { cpuVariants: addon.versions.cpuVariants, cpuLibrary: basename(cpu?.library ?? '') };
});

for (const vocab of settings.vocabularies) {
  await step(`tokenizer ${basename(vocab)}`, async () => {
    const cases = await vectors(vocab);
    const model = await LlamaModel.load(vocab, { vocabOnly: true });
    const wrong = [];
    try {
      for (const { text, ids } of cases) {
        const got = await model.tokenize(text, { addSpecial: false });
        if (JSON.stringify(got) !== JSON.stringify(ids)) wrong.push({ text, expected: ids, got });
      }
    } finally {
      await model.dispose();
    }
    return { cases: cases.length, matching: cases.length - wrong.length, wrong: wrong.slice(0, 3) };
  });
}

for (const [name, path] of Object.entries(settings.models)) {
  await step(`greedy ${name}`, async () => {
    const model = await LlamaModel.load(path, { contextSize: 256 });
    try {
      const out = await model.generate(settings.prompt, { temperature: 0, maxTokens: 48 });
      return { tokens: out.tokens, text: out.text };
    } finally {
      await model.dispose();
    }
  });
}

await step('parseJob', async () => {
  const provider = LocalProvider.withModelPath(settings.models.stories260K, { temperature: 0, contextSize: 4096 });
  try {
    const job = await provider.parseJob(await readFile(settings.posting, 'utf8'));
    return { job, schemaValid: JobPostingSchema.safeParse(job).success };
  } finally {
    await provider.unload();
  }
});

await step('bad model file', async () => {
  try {
    await LlamaModel.load(settings.badModel);
    return { loaded: true };
  } catch (error) {
    return { llamaError: error instanceof LlamaError, code: error.code };
  }
});

await step('dispose', async () => {
  const model = await LlamaModel.load(settings.models.stories260K, { contextSize: 128 });
  await model.dispose();
  try {
    await model.generate('Once', { maxTokens: 1 });
    return { afterDispose: 'generated' };
  } catch (error) {
    return { afterDispose: error instanceof LlamaError ? error.code : String(error) };
  }
});

result.done = true;
save();
