// The prompts of the four job-application operations: one system and one user template each,
// shared by every provider (a cloud provider can import them so formatting matches); the local
// provider wraps them in the model's chat template.
import type { CandidateProfile, CoverLetterLength, CoverLetterTone, JobPosting } from './schemas.js';

/** One operation's prompt: the system instructions and the user's message, shared by every provider. */
export interface Prompt {
  system: string;
  user: string;
}

const JSON_RULE = 'Answer with one JSON object that matches the requested shape, and nothing else.';

/** parseJob: structured fields of a raw posting. */
export function parseJobPrompt(posting: string): Prompt {
  return {
    system: [
      'You extract structured data from job postings for a job-application assistant.',
      'Copy facts from the posting; never invent a company, location, salary or requirement that it does not state.',
      'Leave optional fields out when the posting does not mention them.',
      JSON_RULE,
    ].join(' '),
    user:
      `Job posting:\n"""\n${posting.trim()}\n"""\n\n` +
      'Extract: title, summary (2-3 sentences), responsibilities, requirements, niceToHaves, skills, ' +
      'and when stated company, location, remotePolicy, employmentType, seniority, salaryRange.',
  };
}

const profileText = (profile: CandidateProfile) => JSON.stringify(profile, null, 2);
const jobText = (job: JobPosting) => JSON.stringify(job, null, 2);

/** generateResume: a resume tailored to the job, from the candidate's real history. */
export function resumePrompt(profile: CandidateProfile, job: JobPosting): Prompt {
  return {
    system: [
      'You write concise, truthful resumes tailored to a specific job.',
      'Use only the experience, education and projects in the candidate profile; ' +
        'reword and reorder them to match the job, and never invent employers, dates, degrees or skills.',
      'Bullets start with a strong verb and show impact.',
      JSON_RULE,
    ].join(' '),
    user:
      `Candidate profile:\n${profileText(profile)}\n\nTarget job:\n${jobText(job)}\n\n` +
      'Write the resume: headline, summary, skills (most relevant first), experience with tailored bullets, ' +
      'education, and projects if relevant.',
  };
}

/** generateCoverLetter: a letter in the given tone and length. */
export function coverLetterPrompt(
  profile: CandidateProfile,
  job: JobPosting,
  tone: CoverLetterTone,
  length: CoverLetterLength,
): Prompt {
  return {
    system: [
      'You write cover letters for job applications.',
      `Tone: ${tone}. Length: ${length}.`,
      "Connect the candidate's real experience to the job's requirements; do not invent facts.",
      JSON_RULE,
    ].join(' '),
    user:
      `Candidate profile:\n${profileText(profile)}\n\nJob:\n${jobText(job)}\n\n` +
      "Write the cover letter as greeting, paragraphs, closing and signature (the candidate's name).",
  };
}

/** suggestSkills: what to highlight or learn for the job. */
export function skillsPrompt(profile: CandidateProfile, job: JobPosting): Prompt {
  return {
    system: [
      'You advise job seekers on which skills matter for a job.',
      "Compare the job's requirements with the candidate profile. " +
        'For each suggestion say why it matters, its priority, and whether the profile already shows it.',
      JSON_RULE,
    ].join(' '),
    user:
      `Candidate profile:\n${profileText(profile)}\n\nJob:\n${jobText(job)}\n\n` +
      'Suggest up to 10 skills, most important first.',
  };
}
