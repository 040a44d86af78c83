#!/usr/bin/env node
// Measures one addon build (LLAMA_NAPI_ADDON=…/llama_napi.node) on one model and thread count, as
// bench/measure.mjs does; prints JSON. Used by bench/builds.mjs to compare build variants.
// Usage: LLAMA_NAPI_ADDON=path node bench/addon-runner.mjs <model.gguf> <threads> <repetitions>
import { loadAddon } from '../dist/native.js';
import { measureOurs } from './measure.mjs';

const [path, threads, repetitions] = process.argv.slice(2);
const addon = loadAddon();
await addon.initBackend();
const model = await addon.loadModel(path, {});
const result = await measureOurs(model, Number(threads), Number(repetitions ?? 5));
model.dispose();
process.stdout.write(`${JSON.stringify(result)}\n`);
