// Regular expression → GBNF: a JSON Schema `pattern` (anchored; the subset jsonSchemaToGrammar
// documents) as a grammar over the content of a JSON string, each character as it appears escaped
// in the JSON text.
import { classChar, fail, gbnfLiteral, repeat } from './gbnf.js';

/** The GBNF for the content of a JSON string matching `pattern`; `name` places errors. */
export function patternToGrammar(pattern: string, name: string): string {
  return new PatternConverter(pattern, name).convert();
}

/** An anchored regular expression (the subset above) as GBNF over a JSON string's content. */
class PatternConverter {
  private position = 0;
  private readonly source: string;

  constructor(
    pattern: string,
    private readonly name: string,
  ) {
    let source = pattern;
    const anchoredStart = source.startsWith('^');
    const anchoredEnd = source.endsWith('$') && !source.endsWith('\\$');
    if (anchoredStart) source = source.slice(1);
    if (anchoredEnd) source = source.slice(0, -1);
    // Unanchored ends match anything before / after, as a regular expression search does.
    this.source = source;
    this.prefixAny = !anchoredStart;
    this.suffixAny = !anchoredEnd;
  }

  private readonly prefixAny: boolean;
  private readonly suffixAny: boolean;

  convert(): string {
    const body = this.alternation(0);
    if (this.position < this.source.length) this.error(`unexpected ")" at ${this.position}`);
    const any = 'char*';
    return [this.prefixAny ? any : '', `(${body})`, this.suffixAny ? any : ''].filter(Boolean).join(' ');
  }

  private error(message: string): never {
    fail(`${this.name}: pattern ${JSON.stringify(this.source)}: ${message}`);
  }

  private alternation(depth: number): string {
    if (depth > 50) this.error('groups nest too deeply');
    const options = [this.sequence(depth)];
    while (this.source[this.position] === '|') {
      this.position++;
      options.push(this.sequence(depth));
    }
    return options.join(' | ');
  }

  private sequence(depth: number): string {
    const items: string[] = [];
    while (this.position < this.source.length) {
      const ch = this.source[this.position] as string;
      if (ch === '|' || ch === ')') break;
      let atom: string;
      if (ch === '(') {
        this.position++;
        if (this.source.startsWith('?:', this.position)) this.position += 2;
        else if (this.source[this.position] === '?') this.error('lookarounds and named groups are not supported');
        atom = `(${this.alternation(depth + 1)})`;
        if (this.source[this.position] !== ')') this.error('unbalanced parentheses');
        this.position++;
      } else if (ch === '[') {
        atom = this.characterClass();
      } else if (ch === '.') {
        this.position++;
        atom = '[^"\\\\\\x7F\\x00-\\x1F\\n]';
      } else if (ch === '\\') {
        atom = this.escape(false);
      } else if (ch === '^' || ch === '$') {
        this.error('anchors are supported only at the very start and end');
      } else if ('*+?{'.includes(ch)) {
        this.error(`nothing to repeat at ${this.position}`);
      } else {
        this.position++;
        atom = jsonChar(ch);
      }
      items.push(this.quantifier(atom));
    }
    return items.length === 0 ? '""' : items.join(' ');
  }

  private quantifier(atom: string): string {
    const ch = this.source[this.position];
    if (ch === '*' || ch === '+' || ch === '?') {
      this.position++;
      if (this.source[this.position] === '?') this.position++; // lazy: same language
      return `${atom}${ch}`;
    }
    if (ch === '{') {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(this.source.slice(this.position));
      if (!match) this.error(`bad quantifier at ${this.position}`);
      this.position += match[0].length;
      const min = Number(match[1]);
      const max = match[2] === undefined ? min : match[3] === '' ? undefined : Number(match[3]);
      if (min > 1000 || (max !== undefined && (max > 1000 || max < min))) this.error('quantifier out of range');
      return repeat(atom, min, max) || '""';
    }
    return atom;
  }

  private escape(inClass: boolean): string {
    const next = this.source[this.position + 1];
    if (next === undefined) this.error('trailing backslash');
    this.position += 2;
    // \s: a space, or the escapes a JSON string writes tabs and line breaks as (a space only in a class).
    const classes: Record<string, string> = { d: '0-9', w: 'a-zA-Z0-9_', s: ' ' };
    const lower = next.toLowerCase();
    if (lower in classes) {
      const set = classes[lower] as string;
      if (next === 's' && !inClass) return '(" " | "\\\\t" | "\\\\n" | "\\\\r")';
      if (next === lower) return inClass ? set : `[${set}]`;
      if (inClass) this.error(`\\${next} inside a class is not supported`);
      return `[^"\\\\\\x7F\\x00-\\x1F${set}]`;
    }
    if (/[0-9]/.test(next)) this.error('back-references are not supported');
    if (/[bBAZz]/.test(next)) this.error(`\\${next} is not supported`);
    const controls: Record<string, string> = { n: '\n', r: '\r', t: '\t', f: '\f', v: '\v' };
    const literal = controls[next] ?? next;
    return inClass ? classChar(literal) : jsonChar(literal);
  }

  private characterClass(): string {
    this.position++;
    let negated = false;
    if (this.source[this.position] === '^') {
      negated = true;
      this.position++;
    }
    let body = '';
    let first = true;
    while (this.position < this.source.length && (this.source[this.position] !== ']' || first)) {
      first = false;
      const ch = this.source[this.position] as string;
      if (ch === '\\') body += this.escape(true);
      else {
        if (ch === '"') this.error('a quote inside a class is not supported');
        body += ch === '-' ? '-' : classChar(ch);
        this.position++;
      }
    }
    if (this.source[this.position] !== ']') this.error('unterminated character class');
    this.position++;
    return negated ? `[^"\\\\\\x7F\\x00-\\x1F${body}]` : `[${body}]`;
  }
}

/** One character of a JSON string's content, as it appears escaped in the JSON text. */
function jsonChar(ch: string): string {
  const escapes: Record<string, string> = {
    '"': '\\"',
    '\\': '\\\\',
    '\n': '\\n',
    '\r': '\\r',
    '\t': '\\t',
    '\b': '\\b',
    '\f': '\\f',
  };
  const code = ch.codePointAt(0) ?? 0;
  if (escapes[ch] !== undefined) return gbnfLiteral(escapes[ch] as string);
  if (code < 0x20) return gbnfLiteral(`\\u${code.toString(16).padStart(4, '0')}`);
  return gbnfLiteral(ch);
}
