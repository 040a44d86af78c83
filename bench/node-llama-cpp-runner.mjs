#!/usr/bin/env node
// Measures node-llama-cpp (installed by bench/run.mjs into bench/.work/node-llama-cpp) on one model
// and thread count: pp (a 128-token prompt in one batch) and tg (64 tokens, greedy). Prints JSON.
// Usage: node bench/node-llama-cpp-runner.mjs <model.gguf> <threads> <repetitions>
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [modelPath, threadsArg, repsArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const reps = Number(repsArg ?? 3);
const installDir = join(dirname(fileURLToPath(import.meta.url)), '.work', 'node-llama-cpp');
const require = createRequire(join(installDir, 'package.json'));
const { getLlama } = await import(pathToFileURL(require.resolve('node-llama-cpp')).href);

const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
const model = await llama.loadModel({ modelPath });
const context = await model.createContext({ contextSize: 256, threads, batchSize: 128, sequences: 1 });
const sequence = context.getSequence();
const prompt = Array.from({ length: 128 }, (_, i) => 100 + ((i * 7919) % 30000));

await sequence.evaluateWithoutGeneratingNewTokens(prompt);
await sequence.clearHistory();
const pp = [];
for (let r = 0; r < reps; r++) {
  const started = performance.now();
  await sequence.evaluateWithoutGeneratingNewTokens(prompt);
  pp.push((prompt.length * 1000) / (performance.now() - started));
  await sequence.clearHistory();
}
const tg = [];
for (let r = 0; r < reps; r++) {
  let count = 0;
  const started = performance.now();
  for await (const token of sequence.evaluate([1], { temperature: 0 })) {
    void token;
    if (++count >= 64) break;
  }
  tg.push((count * 1000) / (performance.now() - started));
  await sequence.clearHistory();
}
const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
process.stdout.write(`${JSON.stringify({ pp: mean(pp), tg: mean(tg) })}\n`);
await context.dispose();
await model.dispose();
