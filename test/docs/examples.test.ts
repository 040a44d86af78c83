// The documentation's examples, run as printed: every ```js block of README.md and docs/*.md is
// written as an .mjs file into a fresh folder whose node_modules/llama-napi links to this checkout
// (the package's exports point at dist/, which the global setup compiles), with the model files the
// examples name linked to real ones, and run with this Node. Each must exit 0 and print something;
// some must print something particular. A block marked `<!-- not run: why -->` on the line before
// is listed as skipped with its reason. Skipped, with a message, where ../shared/models is absent.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { writeLoraFor } from '../fixtures/lora.js';
import { testModelPath } from '../fixtures/models.js';
import { haveStories, repoRoot, storiesPath, storiesSkipMessage, testModelsDir } from '../fixtures/paths.js';

if (!haveStories) console.warn(storiesSkipMessage);

/** One fenced code block of a Markdown file. */
interface Block {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The heading the block sits under. */
  heading: string;
  lang: string;
  code: string;
  /** Why the block is not run (`<!-- not run: why -->` on the line before), if it is not. */
  notRun: string | undefined;
}

const NOT_RUN = /^<!--\s*not run(?::\s*(.*?))?\s*-->$/;

/** The fenced blocks of a Markdown file, in order. */
function codeBlocks(path: string): Block[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: Block[] = [];
  let heading = '(top)';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const title = /^#{1,6}\s+(.*)$/.exec(line);
    if (title) heading = title[1] ?? heading;
    const open = /^```(\S*)\s*$/.exec(line);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i++) body.push(lines[i] ?? '');
    let before = start - 1;
    while (before >= 0 && (lines[before] ?? '').trim() === '') before--;
    const marker = NOT_RUN.exec((lines[before] ?? '').trim());
    blocks.push({
      file: relative(repoRoot, path),
      line: start + 1,
      heading,
      lang: open[1] ?? '',
      code: `${body.join('\n')}\n`,
      notRun: marker ? (marker[1] ?? 'no reason given') : undefined,
    });
  }
  return blocks;
}

const docsDir = join(repoRoot, 'docs');
const markdownFiles = [
  join(repoRoot, 'README.md'),
  ...(existsSync(docsDir)
    ? readdirSync(docsDir)
        .filter((name) => name.endsWith('.md'))
        .sort()
        .map((name) => join(docsDir, name))
    : []),
];
const blocks = markdownFiles.flatMap(codeBlocks);
const examples = blocks.filter((block) => block.lang === 'js');

/** What particular examples must print (matched on their code); every one must match some example. */
const EXPECTED_OUTPUT: Array<{ code: RegExp; stdout: RegExp }> = [
  // The quick start, greedy on stories260K: llama.cpp's own story.
  {
    code: /generate\('Once upon a time', \{\s*temperature: 0, \/\/ greedy/,
    stdout: /^, there was a little girl named Lily\.[\s\S]*\(maxTokens after 32 tokens\)$/,
  },
  { code: /no-such-model\.gguf/, stdout: /^MODEL_NOT_FOUND$/ },
  { code: /new LocalProvider\(/, stdout: /\S/ },
];

/** The model files the examples name, linked into each example's folder. */
const MODEL_FILES: Record<string, string> = {
  // A real trained model: output is text, and the quick start's is known.
  'model.gguf': storiesPath,
  // A generated model (random weights) with a ChatML template, for the chat examples.
  'chat-model.gguf': testModelPath('spmChat'),
  // A LoRA adapter for model.gguf.
  ...(haveStories ? { 'adapter.gguf': await writeLoraFor(storiesPath, join(testModelsDir, 'stories-lora.gguf')) } : {}),
};

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A fresh folder laid out as a user's project: the package installed, the model files present. */
function projectFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'llama-napi-docs-'));
  folders.push(folder);
  mkdirSync(join(folder, 'node_modules'));
  symlinkSync(repoRoot, join(folder, 'node_modules', 'llama-napi'), 'dir');
  for (const [name, target] of Object.entries(MODEL_FILES)) symlinkSync(target, join(folder, name));
  return folder;
}

/** How long an example may run: the assistant's examples make four grammar-constrained generations
 *  each, so they get as long as the e2e provider tests give one operation; the others a minute. */
const timeoutOf = (block: Block) => (/\bLocalProvider\b/.test(block.code) ? 180_000 : 60_000);

function run(
  file: string,
  cwd: string,
  timeout: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LLAMA_NAPI_LOG_LEVEL: 'error' };
  // An example names its model itself; a model from the environment must not stand in for it.
  delete env.LLAMA_NAPI_MODEL;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [file],
      { cwd, env, timeout, maxBuffer: 16 << 20, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr: error?.killed ? `${stderr}\n(killed after ${timeout / 1000} s)` : stderr });
      },
    );
  });
}

const name = (block: Block) => `${block.file}:${block.line} (${block.heading})`;

describe('documentation code blocks', () => {
  it('has JavaScript examples to run', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  it('fences JavaScript as js, so that none escapes this test', () => {
    const other = blocks.filter((block) => ['javascript', 'mjs', 'cjs', 'jsx', 'node'].includes(block.lang));
    expect(other.map(name)).toEqual([]);
  });

  it('gives a reason for every example it does not run', () => {
    expect(examples.filter((block) => block.notRun === 'no reason given').map(name)).toEqual([]);
  });

  it('has an example for every expected output', () => {
    const unmatched = EXPECTED_OUTPUT.filter(({ code }) => !examples.some((block) => code.test(block.code)));
    expect(unmatched.map(({ code }) => String(code))).toEqual([]);
  });
});

describe.skipIf(!haveStories)('documentation examples, run as printed', () => {
  for (const block of examples) {
    if (block.notRun !== undefined) {
      it.skip(`${name(block)}: not run (${block.notRun})`, () => {});
      continue;
    }
    it(
      name(block),
      async () => {
        const folder = projectFolder();
        writeFileSync(join(folder, 'example.mjs'), block.code);
        const { code, stdout, stderr } = await run('example.mjs', folder, timeoutOf(block));
        expect(code, `the exit code; stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(0);
        expect(stdout.trim(), `stdout is empty; stderr:\n${stderr}`).not.toBe('');
        for (const expected of EXPECTED_OUTPUT) {
          if (expected.code.test(block.code)) expect(stdout.trim()).toMatch(expected.stdout);
        }
      },
      timeoutOf(block) + 30_000,
    );
  }
});
