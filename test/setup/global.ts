// Global setup: build llama-simple (the oracle) and write the generated test models, once per run.
import { ensureTestModels } from '../fixtures/models.js';
import { ensureLlamaSimple } from '../fixtures/oracle.js';

export default async function setup(): Promise<void> {
  ensureLlamaSimple();
  await ensureTestModels();
}
