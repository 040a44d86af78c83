// The llama-napi command line (dist/cli.js, compiled by the test setup): outputs, --json, exit codes.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, test } from 'vitest';

import {
  type ChatResult,
  JobPostingSchema,
  LlamaModel,
  ResumeSchema,
  SkillSuggestionsSchema,
  coverLetterSchema,
} from '../../lib/index.js';
import { testModelPath } from '../fixtures/models.js';
import { repoRoot } from '../fixtures/paths.js';

const model = testModelPath('spmChat');
const posting = join(repoRoot, 'examples', 'job-posting.txt');
const profile = join(repoRoot, 'examples', 'candidate-profile.json');

function cli(args: string[], options: { env?: Record<string, string>; input?: string } = {}) {
  const run = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, LLAMA_NAPI_MODEL: '', LLAMA_NAPI_LOG_LEVEL: 'error', ...options.env },
    input: options.input ?? '',
    timeout: 120_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('llama-napi CLI', () => {
  test('parse-job --json prints one JobPosting', () => {
    const run = cli(['--model', model, '--temperature', '0', '--json', 'parse-job', posting]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(JobPostingSchema.safeParse(JSON.parse(run.stdout)).success).toBe(true);
  });

  test('parse-job reads standard input with -, and LLAMA_NAPI_MODEL names the model', () => {
    // Sampled (the default temperature, 0.2): the random test model's byte tokens once wrote invalid
    // UTF-8 here, which llama.cpp's grammar counted as one character and the decoded text as three
    // (INVALID_OUTPUT); a grammar no longer sees such tokens.
    const run = cli(['--json', 'parse-job', '-'], {
      env: { LLAMA_NAPI_MODEL: model },
      input: 'Data engineer at Acme, remote, Python and SQL.',
    });
    expect(run.code).toBe(0);
    expect(JobPostingSchema.safeParse(JSON.parse(run.stdout)).success).toBe(true);
  });

  test('resume takes a profile and a posting text (parsed first)', () => {
    const run = cli([
      '--model',
      model,
      '--temperature',
      '0',
      '--json',
      'resume',
      '--profile',
      profile,
      '--job',
      posting,
    ]);
    expect(run.code).toBe(0);
    expect(ResumeSchema.safeParse(JSON.parse(run.stdout)).success).toBe(true);
  });

  test('cover-letter (with its tone and length) and skills print their shapes', () => {
    const common = ['--model', model, '--temperature', '0', '--json'];
    const letter = cli([
      ...common,
      'cover-letter',
      '--profile',
      profile,
      '--job',
      posting,
      '--tone',
      'concise',
      '--length',
      'short',
    ]);
    expect(letter.code).toBe(0);
    expect(coverLetterSchema('short').safeParse(JSON.parse(letter.stdout)).success).toBe(true);
    const skills = cli([...common, 'skills', '--profile', profile, '--job', posting]);
    expect(skills.code).toBe(0);
    // suggestSkills() resolves with the suggestions themselves.
    expect(SkillSuggestionsSchema.safeParse({ suggestions: JSON.parse(skills.stdout) }).success).toBe(true);
    expect(cli([...common, 'cover-letter', '--profile', profile, '--job', posting, '--tone', 'rude']).code).toBe(2);
  });

  test('inspect shows the GGUF metadata without loading weights', () => {
    const run = cli(['inspect', model]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^spmChat\.gguf: GGUF v3, llama \(llama-napi test spmChat\)\n4\.17 M parameters in 21 tensors/,
    );
    expect(run.stdout).toMatch(/chat template: yes/);
    const json = JSON.parse(cli(['--json', 'inspect', model]).stdout) as {
      tensors: number;
      metadata: Record<string, unknown>;
    };
    expect(json.tensors).toBe(21);
    expect(json.metadata['llama.embedding_length']).toBe(64);
  });

  test('generate streams text; --json prints the result', () => {
    const run = cli([
      '--model',
      model,
      '--temperature',
      '0',
      '--max-tokens',
      '8',
      '--json',
      'generate',
      'Once',
      'upon',
      'a',
      'time',
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ stopReason: 'maxTokens', timings: { generatedTokens: 8 } });
    const streamed = cli(['--model', model, '--temperature', '0', '--max-tokens', '8', 'chat', 'Hello']);
    expect(streamed.code).toBe(0);
    expect(streamed.stdout.length).toBeGreaterThan(1);
  });

  test('exit codes: no model 3 (with instructions), missing file 4, bad usage 2, empty posting 4', () => {
    const noModel = cli(['parse-job', posting]);
    expect(noModel.code).toBe(3);
    expect(noModel.stderr).toMatch(
      /No model configured\.[\s\S]*--model \/path\/to\/model\.gguf[\s\S]*LLAMA_NAPI_MODEL/,
    );
    expect(cli(['--model', '/nonexistent.gguf', 'parse-job', posting]).code).toBe(3);
    expect(cli(['--model', model, 'parse-job', '/nonexistent.txt']).code).toBe(4);
    expect(cli(['no-such-command']).code).toBe(2);
    expect(cli(['--model', model, 'resume', '--profile', profile]).code).toBe(2);
    expect(cli(['--model', model, 'parse-job', '-'], { input: '  ' }).code).toBe(4);
    expect(cli(['--help']).code).toBe(0);
  });

  test('-c auto and --gpu-layers auto|all|N; a bad value exits 2 naming the flag', () => {
    const json = ['--model', model, '--temperature', '0', '--max-tokens', '4', '--json'];
    const auto = cli([...json, '-c', 'auto', '--gpu-layers', 'auto', 'generate', 'Once']);
    expect(auto.code).toBe(0);
    expect(JSON.parse(auto.stdout).text).toBe(JSON.parse(cli([...json, 'generate', 'Once']).stdout).text);
    expect(cli([...json, '--gpu-layers', 'all', 'generate', 'Once']).code).toBe(0);
    expect(cli([...json, '--gpu-layers', '0', 'generate', 'Once']).code).toBe(0);
    const bad = cli([...json, '--gpu-layers', 'most', 'generate', 'Once']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('gpu layers must be a non-negative integer or all or auto');
    expect(cli([...json, '-c', 'big', 'generate', 'Once']).stderr).toContain(
      'context size must be a non-negative integer or auto',
    );
  });
});

describe('llama-napi chat: a conversation', () => {
  const greedy = ['--model', model, '--temperature', '0', '--max-tokens', '8'];

  test('each line a turn with the history before it; /save, /reset, /load; answers as chat() gives them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llama-napi-cli-chat-'));
    const file = join(dir, 'talk.session');
    try {
      const input = ['Hello', `/save ${file}`, '/reset', '/bogus', `/load ${file}`, 'And then?', '/exit', 'never read'];
      const run = cli([...greedy, '--json', 'chat', '-i', '--system', 'Be brief.'], { input: `${input.join('\n')}\n` });
      expect(run.code).toBe(0);
      const [first, second, ...more] = run.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as ChatResult);
      expect(more).toEqual([]);
      expect(run.stderr).toBe(
        [
          `saved 3 messages to ${file}`,
          'the conversation starts again',
          'unknown command /bogus: /help lists the commands',
          `loaded 3 messages from ${file}`,
          '',
        ].join('\n'),
      );
      // The same conversation through chat(); the restored session decoded only the new turn.
      const llama = await LlamaModel.load(model);
      try {
        const options = { temperature: 0, maxTokens: 8 };
        const system = { role: 'system', content: 'Be brief.' };
        const one = await llama.chat([system, { role: 'user', content: 'Hello' }], options);
        expect(first!.text).toBe(one.text);
        const two = await llama.chat(
          [
            system,
            { role: 'user', content: 'Hello' },
            { role: 'assistant', content: one.text },
            { role: 'user', content: 'And then?' },
          ],
          options,
        );
        expect(second!.text).toBe(two.text);
        expect(second!.timings.reusedTokens).toBeGreaterThan(0);
      } finally {
        await llama.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('Ctrl-C stops the answer being written, and the conversation goes on', async () => {
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'dist', 'cli.js'), ...greedy.slice(0, 4), '--max-tokens', '3000', 'chat', '-i'],
      { env: { ...process.env, LLAMA_NAPI_LOG_LEVEL: 'error' } },
    );
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stderr.on('data', (data: Buffer) => {
      stderr += data.toString();
      if (stderr.includes('stopped')) child.stdin.end('/exit\n');
    });
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
      if (!interrupted) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stdin.write('Tell me a long story\n');
    const code = await new Promise<number | null>((done) => child.on('exit', done));
    expect(code).toBe(0);
    expect(stderr).toBe('(stopped; the answer is not kept)\n');
    expect(stdout.length).toBeGreaterThan(0);
  });

  test("messages name the command's flags; llama.cpp's notes only with --verbose", () => {
    const quiet = { env: { LLAMA_NAPI_LOG_LEVEL: '' } };
    const noTemplate = cli(['--model', testModelPath('spmF32'), 'chat', 'Hello'], quiet);
    expect(noTemplate.code).toBe(2);
    expect(noTemplate.stderr).toMatch(/has no chat template: pass --template/);
    expect(cli(['--model', model, 'chat'], quiet)).toMatchObject({ code: 2, stderr: expect.stringMatching(/-i/) });
    const overflow = cli([...greedy, '-c', '64', 'chat', '-i'], { ...quiet, input: `${'word '.repeat(600)}\n` });
    expect(overflow.code).toBe(0);
    expect(overflow.stderr).toMatch(/more than the context holds .*--context-size/);
    const plain = cli([...greedy, 'chat', 'Hello'], quiet);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toBe('');
    const verbose = cli(['-v', ...greedy, 'chat', 'Hello'], quiet);
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toMatch(/llama_model_loader/);
  });
});

describe('llama-napi rpc-server', () => {
  /** Runs the CLI until its stderr matches `ready`, then stops it with `signal`. */
  async function serve(args: string[], ready: RegExp, signal: NodeJS.Signals) {
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'rpc-server', ...args], {
      env: { ...process.env, LLAMA_NAPI_LOG_LEVEL: 'error' },
    });
    let stderr = '';
    const exited = new Promise<number | null>((done) => child.on('exit', done));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (data: Buffer) => {
        stderr += data.toString();
        if (ready.test(stderr)) resolve();
      });
      void exited.then(() => reject(new Error(`rpc-server exited: ${stderr}`)));
    });
    child.kill(signal);
    return { code: await exited, stderr };
  }

  test('serves on 127.0.0.1 by default, quietly; another address comes with a warning', async () => {
    const local = await serve(['--port', '0'], /serving at/, 'SIGINT');
    expect(local.code).toBe(0);
    expect(local.stderr).toMatch(/^llama-napi: serving at 127\.0\.0\.1:\d+ \(Ctrl-C stops\)\n$/);
    const open = await serve(['--host', '0.0.0.0', '--port', '0'], /serving at/, 'SIGTERM');
    expect(open.code).toBe(0);
    expect(open.stderr).toMatch(
      /^llama-napi: warning: the RPC server listens on 0\.0\.0\.0: its protocol has no authentication or encryption/,
    );
    expect(open.stderr).toMatch(/serving at 0\.0\.0\.0:\d+/);
  });
});
