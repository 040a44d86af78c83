// Global setup: build llama.cpp's tools (the oracles) and write the generated test models, once per run.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import { ensureTestModels } from '../fixtures/models.js';
import { repoRoot } from '../fixtures/paths.js';
import { ensureOracle } from '../fixtures/oracle.js';

export default async function setup(): Promise<void> {
  // llama.cpp's own tools, the oracles of the parity tests: built once, in one go.
  ensureOracle(
    'llama-simple',
    'llama-embedding',
    'llama-completion',
    'llama-debug',
    'llama-fit-params',
    'test-llama-archs',
  );
  await ensureTestModels();
  // The CLI tests run the compiled dist/cli.js: compile the current sources first.
  execFileSync(
    process.execPath,
    [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(repoRoot, 'tsconfig.json')],
    { stdio: 'inherit' },
  );
}
