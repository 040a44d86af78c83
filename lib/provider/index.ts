// The job-application AI provider: interface, local implementation, shared prompts and schemas.
export type { AiProvider, CoverLetterOptions, OperationOptions } from './AiProvider.js';
export { LocalProvider, type LocalProviderOptions } from './LocalProvider.js';
export { AiProviderError, type AiProviderErrorCode } from './errors.js';
export { extractJson } from './extract-json.js';
export { coverLetterPrompt, parseJobPrompt, resumePrompt, skillsPrompt, type Prompt } from './prompts.js';
export {
  CandidateProfileSchema,
  coverLetterSchema,
  JobPostingSchema,
  ResumeSchema,
  SkillSuggestionSchema,
  SkillSuggestionsSchema,
  toJsonSchema,
  type CandidateProfile,
  type CoverLetter,
  type CoverLetterLength,
  type CoverLetterTone,
  type JobPosting,
  type Resume,
  type SkillSuggestion,
} from './schemas.js';
