// Global setup: build llama.cpp's tools (the oracles) and write the generated test models, once per run.
import { ensureTestModels } from '../fixtures/models.js';
import { ensureOracle } from '../fixtures/oracle.js';

export default async function setup(): Promise<void> {
  // llama.cpp's own tools, the oracles of the parity tests: built once, in one go.
  ensureOracle('llama-simple', 'llama-embedding');
  await ensureTestModels();
}
