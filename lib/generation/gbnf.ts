// GBNF building blocks shared by the JSON Schema and pattern converters: literals, character-class
// members, bounded repetition, and the error both raise.
import { LlamaError } from '../errors.js';

/** Throws the converters' error: a LlamaError `INVALID_JSON_SCHEMA`. */
export function fail(message: string): never {
  throw new LlamaError('INVALID_JSON_SCHEMA', message);
}

/** A GBNF string literal. */
export function gbnfLiteral(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A character for use inside a GBNF [class]. */
export function classChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (ch === ']' || ch === '[' || ch === '-' || ch === '\\') return `\\${ch}`;
  if (ch === '^') return '\\x5E'; // GBNF has no \^ escape
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (ch === '\t') return '\\t';
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, '0')}`;
  return ch;
}

/** `item` repeated between min and max times (max undefined: unbounded), as GBNF. */
export function repeat(item: string, min: number, max: number | undefined): string {
  if (max === 0) return '';
  if (max === undefined) {
    if (min === 0) return `${item}*`;
    if (min === 1) return `${item}+`;
    return `${item}{${min},}`;
  }
  if (min === 0 && max === 1) return `${item}?`;
  if (min === max) return min === 1 ? item : `${item}{${min}}`;
  return `${item}{${min},${max}}`;
}
