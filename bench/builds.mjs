#!/usr/bin/env node
// Build flags that matter, measured: the addon built several ways — native CPU (-march=native) or
// portable (no CPU extensions beyond the baseline), ggml thread pools (ours) or OpenMP, and the
// prebuilt binary (every CPU variant, the best loaded at run time; `npm run prebuild:native`) —
// each into build-variants/<name> (the prebuild into prebuilds/), then measured in alternating
// rounds (bench/addon-runner.mjs). Appends a table to bench/RESULTS.md.
// Each variant is a full llama.cpp build (~2 minutes on 2 cores; the prebuild ~6), reused later.
//
// Usage: npm run bench:builds [-- --rounds 5 --models tiny,small --threads 2 --variants prebuilt,openmp]
//   --variants  which to compare with the native build: portable, openmp, prebuilt (default: all)
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { cmakeJsBuild } from '../scripts/cmake-js.mjs';
import { median, tableRow } from './measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    models: { type: 'string', default: 'tiny,small' },
    threads: { type: 'string', default: '2' },
    variants: { type: 'string', default: 'portable,openmp,prebuilt' },
  },
});

const ALL_VARIANTS = {
  'native + thread pools': { portable: 'OFF', openmp: 'OFF' },
  'portable + thread pools': { key: 'portable', portable: 'ON', openmp: 'OFF' },
  'native + OpenMP': { key: 'openmp', portable: 'OFF', openmp: 'ON' },
  'prebuilt (CPU variants at run time)': { key: 'prebuilt', prebuilt: true },
};
const wanted = new Set(args.variants.split(','));
const VARIANTS = Object.fromEntries(
  Object.entries(ALL_VARIANTS).filter(([, flags]) => !flags.key || wanted.has(flags.key)),
);

function build(name, { portable, openmp, prebuilt }) {
  if (prebuilt) {
    const addon = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'llama-napi.glibc.node');
    if (!existsSync(addon))
      execFileSync(process.execPath, [join(root, 'scripts', 'prebuild.mjs')], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    return addon;
  }
  // The default build is the one `npm install` made.
  if (portable === 'OFF' && openmp === 'OFF') return join(root, 'build', 'Release', 'llama_napi.node');
  const out = join(root, 'build-variants', name.replace(/[^a-z]+/g, '-'));
  const addon = join(out, 'Release', 'llama_napi.node');
  if (existsSync(addon)) return addon;
  console.error(`[bench:builds] building ${name} (a full llama.cpp build)…`);
  cmakeJsBuild(out, { defines: { LLAMA_NAPI_PORTABLE: portable, LLAMA_NAPI_OPENMP: openmp }, quiet: true });
  return addon;
}

const addons = Object.fromEntries(Object.entries(VARIANTS).map(([name, flags]) => [name, build(name, flags)]));
const lines = [
  '',
  `## Build variants (\`npm run bench:builds\`, ${args.threads} threads, medians of ${args.rounds} alternating rounds)`,
  '',
];
lines.push('| model | build | pp tokens/s | tg tokens/s | tg vs native + thread pools |', '|---|---|---|---|---|');
for (const model of args.models.split(',')) {
  const path = join(root, 'bench', '.work', `${model}.gguf`);
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run bench first`);
  const samples = Object.fromEntries(Object.keys(addons).map((name) => [name, { pp: [], tg: [] }]));
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const [name, addon] of Object.entries(addons)) {
      const run = spawnSync(process.execPath, [join(root, 'bench', 'addon-runner.mjs'), path, args.threads, '3'], {
        encoding: 'utf8',
        env: { ...process.env, LLAMA_NAPI_ADDON: addon },
      });
      if (run.status !== 0) throw new Error(`${name}: ${run.stderr}`);
      const result = JSON.parse(run.stdout.trim());
      samples[name].pp.push(result.pp);
      samples[name].tg.push(result.tg);
    }
  }
  const base = median(samples['native + thread pools'].tg);
  for (const [name, sample] of Object.entries(samples)) {
    lines.push(
      tableRow([
        model,
        name,
        median(sample.pp).toFixed(0),
        median(sample.tg).toFixed(0),
        `${(median(sample.tg) / base).toFixed(2)}×`,
      ]),
    );
  }
}
const markdown = `${lines.join('\n')}\n`;
appendFileSync(join(root, 'bench', 'RESULTS.md'), markdown);
console.log(markdown);
