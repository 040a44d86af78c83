// The AI provider interface of the job-application assistant: four operations, typed input and
// output. LocalProvider implements it in-process; a cloud provider can implement it with the same
// prompts (./prompts.js) and schemas (./schemas.js).
import type {
  CandidateProfile,
  CoverLetter,
  CoverLetterLength,
  CoverLetterTone,
  JobPosting,
  Resume,
  SkillSuggestion,
} from './schemas.js';

/** Options every operation takes. */
export interface OperationOptions {
  /** Stops the operation: it rejects with AiProviderError ABORTED. */
  signal?: AbortSignal;
  /** Each generated token's text, as it is produced (progress). */
  onToken?: (chunk: { token: number; text: string }) => void;
  /** Sampling temperature (default 0.2; 0 = greedy). */
  temperature?: number;
  /** Most tokens to generate (default: no limit but the context; every output shape is bounded). */
  maxTokens?: number;
}

/** generateCoverLetter()'s options: the letter's tone and length, with every operation's options. */
export interface CoverLetterOptions extends OperationOptions {
  tone?: CoverLetterTone;
  length?: CoverLetterLength;
}

/**
 * The job-application assistant's four operations, each resolving with typed, schema-valid JSON: implemented
 * in-process by LocalProvider, and by any cloud provider that uses the same prompts and shapes.
 */
export interface AiProvider {
  /** Structured fields of a raw job posting. */
  parseJob(posting: string, options?: OperationOptions): Promise<JobPosting>;
  /** A resume tailored to the job, from the candidate's real history. */
  generateResume(profile: CandidateProfile, job: JobPosting, options?: OperationOptions): Promise<Resume>;
  /** A cover letter in the given tone and length. */
  generateCoverLetter(profile: CandidateProfile, job: JobPosting, options?: CoverLetterOptions): Promise<CoverLetter>;
  /** Skills to highlight or learn for the job, most important first. */
  suggestSkills(profile: CandidateProfile, job: JobPosting, options?: OperationOptions): Promise<SkillSuggestion[]>;
}
