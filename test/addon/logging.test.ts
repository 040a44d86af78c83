// llama.cpp's log output: a threshold (setLogLevel), a logger of the user's own (setLogger), whole
// lines at the right level; without a logger, stderr only — never stdout.
import { spawnSync } from 'node:child_process';

import { afterEach, describe, expect, test } from 'vitest';

import { LlamaError, LlamaModel, getLogLevel, setLogLevel, setLogger, type LogLevel } from '../../lib/index.js';
import { testModelPath } from '../fixtures/models.js';
import { repoRoot } from '../fixtures/paths.js';

// bpeF32 was trained (so its header says) on 256 tokens: a 512-token context makes llama.cpp warn.
const path = testModelPath('bpeF32');
const OVERFLOW = /n_ctx_seq \(512\) > n_ctx_train \(256\) -- possible training context overflow$/;

type Line = [level: string, message: string];

/** Loads the model with an over-long context, then waits until the log lines have come over. */
async function loadAndCollect(level: LogLevel): Promise<Line[]> {
  const lines: Line[] = [];
  setLogger((lvl, message) => lines.push([lvl, message]));
  setLogLevel(level);
  const model = await LlamaModel.load(path, { contextSize: 512 });
  await model.generate('Hi', { maxTokens: 2 });
  await model.dispose();
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  return lines;
}

afterEach(() => {
  setLogger(null);
  setLogLevel('error');
});

describe('logging', () => {
  test('at warn the logger gets the overflow warning as one whole line, and no info lines', async () => {
    const lines = await loadAndCollect('warn');
    const warnings = lines.filter(([, message]) => OVERFLOW.test(message));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.[0]).toBe('warn');
    expect(lines.every(([level]) => level === 'warn' || level === 'error')).toBe(true);
    expect(lines.every(([, message]) => !message.includes('\n') && message.length > 0)).toBe(true);
  });

  test('at info the loader and context lines arrive, tagged info, along with the warning', async () => {
    const lines = await loadAndCollect('info');
    expect(lines.some(([level, message]) => level === 'info' && message.startsWith('llama_model_loader: '))).toBe(true);
    expect(lines.some(([level, message]) => level === 'info' && /^llama_context: n_ctx\s+= 512$/.test(message))).toBe(
      true,
    );
    expect(lines.filter(([level, message]) => level === 'warn' && OVERFLOW.test(message))).toHaveLength(1);
  });

  test('none and error silence the warning', async () => {
    expect(await loadAndCollect('none')).toEqual([]);
    expect((await loadAndCollect('error')).filter(([, message]) => OVERFLOW.test(message))).toEqual([]);
  });

  test('getLogLevel reads back what setLogLevel set; bad levels and loggers are typed errors', () => {
    for (const level of ['debug', 'info', 'warn', 'error', 'none'] as const) {
      setLogLevel(level);
      expect(getLogLevel()).toBe(level);
    }
    for (const bad of ['verbose', '', 3, null, undefined]) {
      expect(() => setLogLevel(bad as never)).toThrow(LlamaError);
      expect(() => setLogLevel(bad as never)).toThrow(/logLevel must be one of debug, info, warn, error, none/);
    }
    expect(getLogLevel()).toBe('none');
    for (const bad of ['log', 1, {}]) {
      expect(() => setLogger(bad as never)).toThrow(/logger must be a function or null/);
    }
  });

  test('a logger that throws is reported once as a process warning and does not break the operation', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      let calls = 0;
      setLogger(() => {
        calls++;
        throw new Error('logger broke');
      });
      setLogLevel('info');
      const model = await LlamaModel.load(path, { contextSize: 512 });
      const result = await model.generate('Hi', { maxTokens: 2, temperature: 0 });
      expect(result.tokens).toHaveLength(2);
      await model.dispose();
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(calls).toBeGreaterThan(10);
      expect(warnings).toEqual(['llama-napi: the logger threw (logger broke); its errors are ignored']);
    } finally {
      process.off('warning', onWarning);
    }
  });

  const child = (env: Record<string, string | undefined>) => {
    const script = `
      const { LlamaModel } = await import('./dist/index.js');
      const model = await LlamaModel.load(${JSON.stringify(path)}, { contextSize: 512 });
      await model.generate('Hi', { maxTokens: 2 });
      await model.dispose();
      console.log('done');`;
    const environment: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete environment[key];
    return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: environment,
      timeout: 60_000,
    });
  };

  test('without a logger, lines go to stderr and never to stdout, at any level', () => {
    const debug = child({ LLAMA_NAPI_LOG_LEVEL: 'debug' });
    expect(debug.status, debug.stderr).toBe(0);
    expect(debug.stdout).toBe('done\n');
    expect(debug.stderr).toMatch(/^llama_model_loader: /m);
    expect(debug.stderr).toMatch(/n_ctx_seq \(512\) > n_ctx_train \(256\)/);
  });

  test('by default only warnings are written', () => {
    const quiet = child({ LLAMA_NAPI_LOG_LEVEL: undefined });
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stdout).toBe('done\n');
    expect(quiet.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^llama_context: n_ctx_seq \(512\) > n_ctx_train \(256\) -- possible training context overflow$/,
      ),
    ]);
  });
});
