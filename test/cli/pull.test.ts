// `llama-napi pull` (dist/cli.js, compiled by the test setup) against a local stand-in for the hub:
// the path on stdout, progress lines on stderr (not a terminal here), exit codes, the token unseen.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';

import { ggufBytes, HUB_TOKEN, HubServer, sha256Of } from '../fixtures/hub-server.js';
import { repoRoot } from '../fixtures/paths.js';

let hub: HubServer;
let dir: string;
const body = ggufBytes(50, 300 * 1024);

/** Runs the CLI without blocking this process (the hub answers from here). */
function pull(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'cli.js'), ...args], {
      env: {
        ...process.env,
        HF_ENDPOINT: hub.url,
        HF_TOKEN: '',
        LLAMA_NAPI_MODELS: dir,
        // pull runs without the native addon.
        LLAMA_NAPI_ADDON: join(dir, 'no-such-addon.node'),
        LLAMA_NAPI_LOG_LEVEL: '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  hub = await HubServer.start();
  hub.add('acme/tiny', 'tiny-Q4_K_M.gguf', { body });
  hub.add('acme/tiny', 'tiny-Q8_0.gguf', { body: ggufBytes(51) });
  hub.add('acme/gated', 'gated.gguf', { body, gated: true });
});
afterAll(() => hub.close());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llama-napi-pull-'));
  hub.reset();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('llama-napi pull', () => {
  test('downloads into --dir, prints the path on stdout and progress lines on stderr', async () => {
    const into = join(dir, 'models');
    const run = await pull(['pull', 'hf:acme/tiny:Q4_K_M', '--dir', into]);
    expect(run.code).toBe(0);
    const path = join(into, 'tiny-Q4_K_M.gguf');
    expect(run.stdout).toBe(`${path}\n`);
    expect(sha256Of(readFileSync(path))).toBe(sha256Of(body));
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toBe('llama-napi: tiny-Q4_K_M.gguf: downloading, 0 B of 300.2 KiB');
    expect(lines.at(-1)).toMatch(/^llama-napi: tiny-Q4_K_M\.gguf: done, 300\.2 KiB of 300\.2 KiB/);

    // Again: already there, nothing fetched; --json prints the path as JSON.
    hub.reset();
    const again = await pull(['--json', 'pull', 'hf:acme/tiny:Q4_K_M', '--dir', into]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ path });
    expect(hub.bodyRequests()).toEqual([]);
  });

  test('LLAMA_NAPI_MODELS is the default folder; --sha256 is checked (exit 3, nothing left)', async () => {
    const wrong = 'f'.repeat(64);
    const run = await pull(['pull', 'hf:acme/tiny/tiny-Q8_0.gguf', '--sha256', wrong]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`sha256 expects ${wrong}; the download was deleted`);
    expect(run.stdout).toBe('');
    // The default folder keeps a hub file under OWNER/REPO/: nothing is left there.
    expect(readdirSync(join(dir, 'acme', 'tiny'))).toEqual([]);

    const right = await pull(['pull', 'hf:acme/tiny/tiny-Q8_0.gguf', '--sha256', sha256Of(ggufBytes(51))]);
    expect(right.code).toBe(0);
    expect(right.stdout).toBe(`${join(dir, 'acme', 'tiny', 'tiny-Q8_0.gguf')}\n`);
  });

  test('a gated repository: exit 3 with the HF_TOKEN hint; with HF_TOKEN it downloads; the token unseen', async () => {
    const refused = await pull(['pull', 'hf:acme/gated/gated.gguf']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^llama-napi: cannot download .*gated\.gguf: HTTP 401 .*set HF_TOKEN/);

    const run = await pull(['pull', 'hf:acme/gated/gated.gguf'], { HF_TOKEN: HUB_TOKEN });
    expect(run.code).toBe(0);
    expect(existsSync(join(dir, 'acme', 'gated', 'gated.gguf'))).toBe(true);
    expect(`${run.stdout}${run.stderr}${refused.stderr}`).not.toContain(HUB_TOKEN);
    for (const request of hub.bodyRequests()) expect(request.authorization).toBeUndefined();
  });

  test('a source that does not parse, or a bad --sha256, is exit 4', async () => {
    const bad = await pull(['pull', 'hf:acme']);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('does not name a repository as OWNER/REPO');
    const sha = await pull(['pull', 'hf:acme/tiny:Q4_K_M', '--sha256', 'xyz']);
    expect(sha.code).toBe(4);
    expect(sha.stderr).toContain('--sha256 must be 64 hexadecimal digits');
    expect(hub.requests).toEqual([]);
  });
});
