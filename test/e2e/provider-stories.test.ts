// All four provider operations end to end on the real trained model ../shared/models/stories260K.gguf
// (a children's-stories model: the content is not meaningful, but every output must be schema-valid).
// Its 512-token vocabulary spells the prompts out in ~2,000 tokens: the context is 4096 (over its
// 2048 training context, which llama.cpp warns about; the grammar keeps the output valid anyway).
// Skipped, with a message, where the file is absent.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, test } from 'vitest';

import {
  coverLetterSchema,
  JobPostingSchema,
  LocalProvider,
  ResumeSchema,
  SkillSuggestionSchema,
  type CandidateProfile,
  type JobPosting,
} from '../../lib/index.js';
import { haveStories, repoRoot, storiesPath, storiesSkipMessage } from '../fixtures/paths.js';

if (!haveStories) console.warn(storiesSkipMessage);

const posting = readFileSync(join(repoRoot, 'examples', 'job-posting.txt'), 'utf8');
const profile = JSON.parse(
  readFileSync(join(repoRoot, 'examples', 'candidate-profile.json'), 'utf8'),
) as CandidateProfile;

describe.skipIf(!haveStories)('LocalProvider on stories260K (real weights)', () => {
  const provider = LocalProvider.withModelPath(storiesPath, { temperature: 0, contextSize: 4096 });
  afterAll(() => provider.unload());
  let job: JobPosting;

  const timed = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await run();
    console.log(`${name} (${Math.round(performance.now() - started)} ms): ${JSON.stringify(result)}`);
    return result;
  };

  test('parseJob on the example posting', async () => {
    job = await timed('parseJob', () => provider.parseJob(posting));
    expect(JobPostingSchema.parse(job)).toEqual(job);
  }, 180_000);

  test('generateResume', async () => {
    const resume = await timed('generateResume', () => provider.generateResume(profile, job));
    expect(ResumeSchema.parse(resume)).toEqual(resume);
  }, 180_000);

  test('generateCoverLetter', async () => {
    const letter = await timed('generateCoverLetter', () =>
      provider.generateCoverLetter(profile, job, { length: 'short' }),
    );
    expect(coverLetterSchema('short').parse(letter)).toEqual(letter);
  }, 180_000);

  test('suggestSkills', async () => {
    const skills = await timed('suggestSkills', () => provider.suggestSkills(profile, job));
    for (const skill of skills) expect(SkillSuggestionSchema.parse(skill)).toEqual(skill);
  }, 180_000);
});
