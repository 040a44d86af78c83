// extractJson: the first balanced JSON value in text from anywhere (prose, Markdown code fences),
// parsed and validated — for output of models or services that cannot be grammar-constrained.
import type { z } from 'zod';

import { AiProviderError } from './errors.js';

/** Start offsets of candidate JSON values: code-fence contents first, then every { or [. */
function candidates(text: string): number[] {
  const starts: number[] = [];
  for (const fence of text.matchAll(/```[a-zA-Z]*\s*\n?/g)) starts.push((fence.index ?? 0) + fence[0].length);
  for (let i = 0; i < text.length; i++) if (text[i] === '{' || text[i] === '[') starts.push(i);
  return starts;
}

/** The end (exclusive) of the balanced value starting at `start`, honouring strings; -1 if none. */
function balancedEnd(text: string, start: number): number {
  const open = text[start];
  if (open !== '{' && open !== '[') return -1;
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') stack.push(ch === '{' ? '}' : ']');
    else if (ch === '}' || ch === ']') {
      if (stack.pop() !== ch) return -1;
      if (stack.length === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * Finds the first balanced JSON object or array in `text` that parses and matches `schema`.
 * Throws AiProviderError INVALID_OUTPUT when there is none (saying whether any JSON was found).
 */
export function extractJson<S extends z.ZodType>(text: string, schema: S): z.infer<S> {
  if (typeof text !== 'string') throw new AiProviderError('INVALID_INPUT', 'text must be a string');
  let sawJson = false;
  let lastIssue = '';
  const tried = new Set<number>();
  for (const raw of candidates(text)) {
    let start = raw;
    while (start < text.length && /\s/.test(text[start] ?? '')) start++;
    if (tried.has(start)) continue;
    tried.add(start);
    const end = balancedEnd(text, start);
    if (end === -1) continue;
    let value: unknown;
    try {
      value = JSON.parse(text.slice(start, end));
    } catch {
      continue;
    }
    sawJson = true;
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    lastIssue = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
  }
  throw new AiProviderError(
    'INVALID_OUTPUT',
    sawJson
      ? `the JSON in the text does not match the expected shape: ${lastIssue}`
      : 'the text contains no JSON object or array',
  );
}
