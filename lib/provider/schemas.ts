// The shapes of the job-application operations, defined once (zod): TypeScript types, the JSON
// Schemas the grammar is built from, and runtime validation. Free text is bounded so a constrained
// generation always ends; optional fields stay optional (a model need not invent them).
import { z } from 'zod';

const text = (max: number) => z.string().max(max);
const list = <T extends z.ZodType>(item: T, max: number) => z.array(item).max(max);

/** A job posting, as parseJob() extracts it. */
export const JobPostingSchema = z
  .object({
    title: text(120).describe('The job title'),
    summary: text(400).describe('Two or three sentences on the role'),
    responsibilities: list(text(200), 10),
    requirements: list(text(200), 10),
    niceToHaves: list(text(200), 8),
    skills: list(text(40), 20).describe('Skills and technologies the posting asks for'),
    company: text(120).optional(),
    location: text(120).optional(),
    remotePolicy: z.enum(['onsite', 'hybrid', 'remote']).optional(),
    employmentType: z.enum(['full-time', 'part-time', 'contract', 'internship', 'temporary']).optional(),
    seniority: z.enum(['intern', 'junior', 'mid', 'senior', 'lead', 'principal', 'executive']).optional(),
    salaryRange: z
      .object({
        min: z.number().int().min(0).max(10_000_000),
        max: z.number().int().min(0).max(10_000_000),
        currency: z.string().regex(/^[A-Z]{3}$/),
        period: z.enum(['hour', 'day', 'month', 'year']),
      })
      .optional(),
  })
  .strict();
/** The structured fields of a job posting (optional ones are absent when the posting does not say). */
export type JobPosting = z.infer<typeof JobPostingSchema>;

/** A candidate, as the caller describes them (input). */
export const CandidateProfileSchema = z.object({
  name: z.string().trim().min(1).max(120),
  email: z.string().max(200).optional(),
  phone: z.string().max(60).optional(),
  location: z.string().max(120).optional(),
  headline: z.string().max(200).optional(),
  summary: z.string().max(2000).optional(),
  skills: z.array(z.string().trim().min(1).max(80)).max(100).default([]),
  experience: z
    .array(
      z.object({
        title: z.string().trim().min(1).max(120),
        company: z.string().trim().min(1).max(120),
        location: z.string().max(120).optional(),
        start: z.string().trim().min(1).max(40),
        end: z.string().max(40).optional(),
        highlights: z.array(z.string().max(500)).max(20).default([]),
      }),
    )
    .max(30)
    .default([]),
  education: z
    .array(
      z.object({
        institution: z.string().trim().min(1).max(160),
        degree: z.string().max(160).optional(),
        field: z.string().max(160).optional(),
        year: z.number().int().min(1900).max(2100).optional(),
      }),
    )
    .max(10)
    .default([]),
  projects: z
    .array(
      z.object({
        name: z.string().trim().min(1).max(120),
        description: z.string().max(1000).optional(),
        technologies: z.array(z.string().max(80)).max(30).optional(),
      }),
    )
    .max(20)
    .optional(),
  links: z.array(z.string().max(300)).max(10).optional(),
});
/**
 * A candidate: name, contact, summary, skills, experience, education, projects (the input of the resume,
 * cover-letter and skills operations).
 */
export type CandidateProfile = z.input<typeof CandidateProfileSchema>;

/** A resume tailored to a job. */
export const ResumeSchema = z
  .object({
    headline: text(120),
    summary: text(600),
    skills: list(text(40), 20),
    experience: list(
      z
        .object({
          title: text(100),
          company: text(100),
          start: text(20),
          bullets: list(text(220), 5),
          end: text(20).optional(),
        })
        .strict(),
      6,
    ),
    education: list(
      z
        .object({
          institution: text(120),
          degree: text(120).optional(),
          field: text(120).optional(),
          year: z.number().int().min(1900).max(2100).optional(),
        })
        .strict(),
      4,
    ),
    projects: list(
      z.object({ name: text(100), description: text(300), technologies: list(text(40), 8) }).strict(),
      4,
    ).optional(),
  })
  .strict();
/** A resume tailored to a job: headline, summary, skills, experience with bullets, education, projects. */
export type Resume = z.infer<typeof ResumeSchema>;

/** A cover letter's tone. */
export type CoverLetterTone = 'professional' | 'friendly' | 'enthusiastic' | 'concise';
/** How long a cover letter is: the number and length of its paragraphs. */
export type CoverLetterLength = 'short' | 'medium' | 'long';

const PARAGRAPHS: Record<CoverLetterLength, { min: number; max: number; chars: number }> = {
  short: { min: 2, max: 3, chars: 500 },
  medium: { min: 3, max: 4, chars: 800 },
  long: { min: 4, max: 5, chars: 1000 },
};

/** A cover letter of the given length. */
export function coverLetterSchema(length: CoverLetterLength) {
  const { min, max, chars } = PARAGRAPHS[length];
  return z
    .object({
      greeting: text(120),
      paragraphs: z.array(text(chars)).min(min).max(max),
      closing: text(120),
      signature: text(120),
    })
    .strict();
}
/** A cover letter: greeting, paragraphs, closing and signature. */
export type CoverLetter = z.infer<ReturnType<typeof coverLetterSchema>>;

/** A skill the candidate should show (or learn) for the job. */
export const SkillSuggestionSchema = z
  .object({
    skill: text(60),
    why: text(300),
    priority: z.enum(['high', 'medium', 'low']),
    alreadyShown: z.boolean().describe('Whether the profile already shows this skill'),
  })
  .strict();
/** A skill to highlight or to learn for a job: why, how much it matters, and whether the candidate already shows it. */
export type SkillSuggestion = z.infer<typeof SkillSuggestionSchema>;
/** suggestSkills()'s output as the model writes it: an object holding 1 to 10 suggestions. */
export const SkillSuggestionsSchema = z.object({ suggestions: z.array(SkillSuggestionSchema).min(1).max(10) }).strict();

/** The JSON Schema of a zod schema, for the grammar. */
export function toJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12' }) as Record<string, unknown>;
  return json;
}
