#!/usr/bin/env node
// A short GPU run for compute-sanitizer (scripts/device/gpu.sh runs it under `--tool memcheck`):
// load with every layer on the GPU, two concurrent greedy requests (batched decodes), a stop
// string, an abort mid-generation, dispose. Prints what it generated; any CUDA memory error is the
// sanitizer's to report.
//
// Usage: compute-sanitizer --tool memcheck --error-exitcode 7 node scripts/device/memcheck.mjs <model.gguf>
import { LlamaModel } from '../../dist/index.js';

const path = process.argv[2];
if (!path) {
  console.error('usage: node scripts/device/memcheck.mjs <model.gguf>');
  process.exit(2);
}
const model = await LlamaModel.load(path, { gpuLayers: 'all', contextSize: 256, sequences: 2 });
const [a, b] = await Promise.all([
  model.generate('Once upon a time', { temperature: 0, maxTokens: 16 }),
  model.generate('The little dog', { temperature: 0, maxTokens: 16, stop: ['.'] }),
]);
const controller = new AbortController();
let seen = 0;
const aborted = await model.generate('Lily', {
  temperature: 0,
  maxTokens: 64,
  signal: controller.signal,
  onToken: () => {
    if (++seen === 4) controller.abort();
  },
});
await model.dispose();
console.log(
  JSON.stringify({
    a: a.text,
    b: b.text,
    bStop: b.stopReason,
    aborted: aborted.stopReason,
    gpuLayers: model.info.gpuLayers,
  }),
);
