// JSON Schema → GBNF: the grammar llama.cpp's grammar sampler uses to make a model's output parse
// as JSON of the requested shape. Whitespace follows one policy everywhere: `space` may follow
// "{", "[", ",", ":" and a key, and precede "}" and "]"; values are otherwise written compactly.
//
// Supported: every JSON type and type unions; properties, required, additionalProperties
// (false, true or a schema; absent = no other properties); enum and const; items, prefixItems
// (a fixed tuple unless items allows more), minItems, maxItems; minLength, maxLength; pattern
// (anchored regular expressions: literals, escapes \d \w \s \D \W \S, classes, groups, alternation,
// quantifiers ? * + {n} {n,} {n,m}, the dot); formats date, time, date-time, uuid, email;
// minimum / maximum / exclusiveMinimum / exclusiveMaximum for integers (exact), and for numbers as
// a sign constraint (the exact bound is checked when the output is validated); anyOf, oneOf
// (as anyOf), allOf (merged: objects' properties and required, enums intersected); $ref to any
// place in the document ($defs, definitions, JSON pointers), recursive too. Annotations (title,
// description, default, examples, $comment, …) are ignored. Anything else is an error, never
// silently dropped.
import { classChar, fail, gbnfLiteral, repeat } from './gbnf.js';
import { patternToGrammar } from './pattern-grammar.js';

/** A JSON Schema document (draft 2020-12 keywords; see jsonSchemaToGrammar for the supported subset). */
export type JsonSchema = boolean | { [keyword: string]: unknown };

const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  '$comment',
  '$anchor',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  '$defs',
  'definitions',
  'contentMediaType',
  'contentEncoding',
]);
const SUPPORTED = new Set([
  ...ANNOTATIONS,
  'type',
  'enum',
  'const',
  '$ref',
  'anyOf',
  'oneOf',
  'allOf',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
]);
const FORMATS = ['date', 'time', 'date-time', 'uuid', 'email'] as const;
const MAX_DIGITS = 16;

/** The primitive rules, added to a grammar when something uses them. */
const PRIMITIVES: Record<string, { body: string; uses: string[] }> = {
  space: { body: '| " " | "\\n"{1,2} [ \\t]{0,20}', uses: [] },
  char: { body: '[^"\\\\\\x7F\\x00-\\x1F] | [\\\\] (["\\\\bfnrt] | "u" [0-9a-fA-F]{4})', uses: [] },
  'char-escape': { body: '[\\\\] (["\\\\bfnrt] | "u" [0-9a-fA-F]{4})', uses: [] },
  // One character of the Basic Multilingual Plane, raw or escaped (no astral character, no
  // surrogate escape): one code point and one UTF-16 unit, so that JSON Schema's length (code
  // points), JavaScript's .length (UTF-16 units, what zod counts) and the grammar's count agree.
  'bmp-char': {
    body:
      '[^"\\\\\\x7F\\x00-\\x1F\\U00010000-\\U0010FFFF] | ' +
      '[\\\\] (["\\\\bfnrt] | "u" ([0-9a-cA-Ce-fE-F] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}))',
    uses: [],
  },
  string: { body: '"\\"" char* "\\""', uses: ['char'] },
  'integral-part': { body: `[0] | [1-9] [0-9]{0,${MAX_DIGITS - 1}}`, uses: [] },
  'decimal-part': { body: `[0-9]{1,${MAX_DIGITS}}`, uses: [] },
  number: {
    body: '("-"? integral-part) ("." decimal-part)? ([eE] [-+]? integral-part)?',
    uses: ['integral-part', 'decimal-part'],
  },
  'nonnegative-number': {
    body: 'integral-part ("." decimal-part)? ([eE] [-+]? integral-part)?',
    uses: ['integral-part', 'decimal-part'],
  },
  integer: { body: '("-"? integral-part)', uses: ['integral-part'] },
  boolean: { body: '("true" | "false")', uses: [] },
  null: { body: '"null"', uses: [] },
  value: {
    body: 'object | array | string | number | boolean | null',
    uses: ['object', 'array', 'string', 'number', 'boolean', 'null'],
  },
  object: {
    body: '"{" space ( string ":" space value ("," space string ":" space value)* )? space "}"',
    uses: ['space', 'string', 'value'],
  },
  array: { body: '"[" space ( value ("," space value)* )? space "]"', uses: ['space', 'value'] },
  date: { body: '[0-9]{4} "-" ( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | [1-2] [0-9] | "3" [0-1] )', uses: [] },
  time: {
    body:
      '([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{3} )? ' +
      '( "Z" | ( "+" | "-" ) ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] )',
    uses: [],
  },
  'date-time': { body: 'date "T" time', uses: ['date', 'time'] },
  'date-string': { body: '"\\"" date "\\""', uses: ['date'] },
  'time-string': { body: '"\\"" time "\\""', uses: ['time'] },
  'date-time-string': { body: '"\\"" date-time "\\""', uses: ['date-time'] },
  'uuid-string': {
    body: '"\\"" [0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12} "\\""',
    uses: [],
  },
  'email-label': { body: '[A-Za-z0-9] ([A-Za-z0-9-]{0,61} [A-Za-z0-9])?', uses: [] },
  'email-string': {
    body: '"\\"" email-atom ("." email-atom){0,8} "@" email-label ("." email-label){1,8} "\\""',
    uses: ['email-atom', 'email-label'],
  },
  'email-atom': { body: "[A-Za-z0-9!#$%&'*+/=?\\x5E_`{|}~\\-]{1,64}", uses: [] },
};

type SchemaObject = { [keyword: string]: unknown };

const isObject = (value: unknown): value is SchemaObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The converter: named rules, refs resolved once each, primitives added on use. */
class Converter {
  private readonly rules = new Map<string, string>();
  private readonly refNames = new Map<string, string>();

  constructor(private readonly root: JsonSchema) {}

  grammar(): string {
    const rootExpression = this.visit(this.root, 'root');
    if (rootExpression !== 'root') this.define('root', rootExpression);
    return [...this.rules.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, body]) => `${name} ::= ${body}`)
      .join('\n');
  }

  private use(primitive: string): string {
    if (!this.rules.has(primitive)) {
      const definition = PRIMITIVES[primitive];
      if (definition === undefined) throw new Error(`no primitive rule ${primitive}`);
      this.rules.set(primitive, definition.body);
      for (const dependency of definition.uses) this.use(dependency);
    }
    return primitive;
  }

  /** Defines a rule; a taken name gets a numeric suffix. Returns the name used. */
  private define(name: string, body: string): string {
    const base = name.replace(/[^A-Za-z0-9-]+/g, '-') || 'rule';
    let candidate = base;
    for (let i = 1; this.rules.has(candidate) && this.rules.get(candidate) !== body; i++) candidate = `${base}${i}`;
    this.rules.set(candidate, body);
    return candidate;
  }

  /** A rule name or a parenthesized expression matching `schema`. */
  visit(schema: unknown, name: string): string {
    if (schema === true || (isObject(schema) && Object.keys(schema).every((k) => ANNOTATIONS.has(k))))
      return this.use('value');
    if (schema === false) fail(`${name}: the schema false allows no value`);
    if (!isObject(schema)) fail(`${name}: a schema must be an object or a boolean`);
    for (const keyword of Object.keys(schema)) {
      if (!SUPPORTED.has(keyword)) fail(`${name}: the keyword "${keyword}" is not supported`);
    }
    this.use('space');

    if (typeof schema.$ref === 'string') {
      const others = Object.keys(schema).filter((k) => k !== '$ref' && !ANNOTATIONS.has(k));
      if (others.length > 0) fail(`${name}: $ref next to ${others.join(', ')} is not supported`);
      return this.ref(schema.$ref);
    }
    if ('const' in schema) return gbnfLiteral(JSON.stringify(schema.const));
    if ('enum' in schema) {
      if (!Array.isArray(schema.enum) || schema.enum.length === 0) fail(`${name}: enum must be a non-empty array`);
      return `(${schema.enum.map((value) => gbnfLiteral(JSON.stringify(value))).join(' | ')})`;
    }
    for (const keyword of ['anyOf', 'oneOf'] as const) {
      const alternatives = schema[keyword];
      if (alternatives !== undefined) {
        if (!Array.isArray(alternatives) || alternatives.length === 0)
          fail(`${name}: ${keyword} must be a non-empty array`);
        const extra = Object.keys(schema).filter((k) => k !== keyword && k !== 'type' && !ANNOTATIONS.has(k));
        if (extra.length > 0) fail(`${name}: ${keyword} next to ${extra.join(', ')} is not supported`);
        return this.define(
          name,
          alternatives.map((alternative, i) => this.named(alternative, `${name}-${i}`)).join(' | '),
        );
      }
    }
    if (schema.allOf !== undefined) return this.visit(this.mergeAllOf(schema, name), name);

    const type = schema.type;
    if (Array.isArray(type)) {
      if (type.length === 0) fail(`${name}: type must not be empty`);
      const { type: _, ...rest } = schema;
      return this.define(
        name,
        type.map((t, i) => this.named({ ...rest, type: t }, `${name}-${String(t)}-${i}`)).join(' | '),
      );
    }
    const inferred =
      type ??
      (['properties', 'additionalProperties', 'required'].some((k) => k in schema)
        ? 'object'
        : ['items', 'prefixItems', 'minItems', 'maxItems'].some((k) => k in schema)
          ? 'array'
          : ['pattern', 'format', 'minLength', 'maxLength'].some((k) => k in schema)
            ? 'string'
            : ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'].some((k) => k in schema)
              ? 'number'
              : undefined);
    switch (inferred) {
      case undefined:
        return this.use('value');
      case 'string':
        return this.stringRule(schema, name);
      case 'integer':
        return this.integerRule(schema, name);
      case 'number':
        return this.numberRule(schema);
      case 'boolean':
        return this.use('boolean');
      case 'null':
        return this.use('null');
      case 'object':
        return this.objectRule(schema, name);
      case 'array':
        return this.arrayRule(schema, name);
      default:
        return fail(`${name}: unknown type ${JSON.stringify(inferred)}`);
    }
  }

  /** visit(), as a rule name (so alternatives and repetitions stay readable). */
  private named(schema: unknown, name: string): string {
    const expression = this.visit(schema, name);
    return /^[A-Za-z0-9-]+$/.test(expression) ? expression : this.define(name, expression);
  }

  private ref(ref: string): string {
    const known = this.refNames.get(ref);
    if (known !== undefined) return known;
    if (!ref.startsWith('#')) fail(`$ref ${ref}: only references within the schema (#…) are supported`);
    const target = this.resolve(ref);
    const name = this.define(`ref${ref.slice(1).replace(/[^A-Za-z0-9]+/g, '-')}`, '""');
    this.refNames.set(ref, name);
    this.rules.set(name, this.visit(target, name));
    return name;
  }

  private resolve(ref: string): unknown {
    let node: unknown = this.root;
    const path = ref.slice(1);
    if (path === '' || path === '/') return node;
    for (const raw of path.replace(/^\//, '').split('/')) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (Array.isArray(node)) node = node[Number(key)];
      else if (isObject(node)) node = node[key];
      else node = undefined;
      if (node === undefined) fail(`$ref ${ref} points at nothing`);
    }
    return node;
  }

  /** allOf as one schema: objects merge (properties, required, additionalProperties), enums intersect. */
  private mergeAllOf(schema: SchemaObject, name: string): SchemaObject {
    const parts = schema.allOf;
    if (!Array.isArray(parts) || parts.length === 0) fail(`${name}: allOf must be a non-empty array`);
    const { allOf: _, ...own } = schema;
    const merged: SchemaObject = {};
    const properties: Record<string, unknown> = {};
    const required = new Set<string>();
    let enumValues: string[] | undefined;
    const absorb = (part: unknown, optional: boolean): void => {
      let node = part;
      while (isObject(node) && typeof node.$ref === 'string') node = this.resolve(node.$ref);
      if (node === true) return;
      if (!isObject(node)) fail(`${name}: allOf members must be schemas`);
      if (Array.isArray(node.allOf)) for (const inner of node.allOf) absorb(inner, optional);
      for (const keyword of ['anyOf', 'oneOf']) {
        // An alternative inside allOf contributes its properties, all optional (validation checks the rest).
        if (Array.isArray(node[keyword])) for (const inner of node[keyword] as unknown[]) absorb(inner, true);
      }
      if (isObject(node.properties)) Object.assign(properties, node.properties);
      if (!optional && Array.isArray(node.required)) for (const key of node.required) required.add(String(key));
      if (Array.isArray(node.enum)) {
        const values = node.enum.map((value) => JSON.stringify(value));
        enumValues = enumValues === undefined ? values : enumValues.filter((value) => values.includes(value));
      }
      for (const [keyword, value] of Object.entries(node)) {
        if (
          ['allOf', 'anyOf', 'oneOf', 'properties', 'required', 'enum', '$ref'].includes(keyword) ||
          ANNOTATIONS.has(keyword)
        )
          continue;
        if (keyword in merged && JSON.stringify(merged[keyword]) !== JSON.stringify(value)) {
          if (keyword === 'additionalProperties' && (merged[keyword] === false || value === false)) {
            merged[keyword] = false;
            continue;
          }
          fail(`${name}: allOf members disagree on "${keyword}"`);
        }
        merged[keyword] = value;
      }
    };
    for (const part of parts) absorb(part, false);
    absorb(own, false);
    if (Object.keys(properties).length > 0) merged.properties = properties;
    if (required.size > 0) merged.required = [...required];
    if (enumValues !== undefined) {
      if (enumValues.length === 0) fail(`${name}: the enums of allOf have no value in common`);
      merged.enum = enumValues.map((value) => JSON.parse(value) as unknown);
    }
    return merged;
  }

  private stringRule(schema: SchemaObject, name: string): string {
    const { format, pattern, minLength, maxLength } = schema;
    if (format !== undefined) {
      if (pattern !== undefined || minLength !== undefined || maxLength !== undefined)
        fail(`${name}: format with pattern or lengths is not supported`);
      if (!FORMATS.includes(format as (typeof FORMATS)[number]))
        fail(`${name}: format "${String(format)}" is not supported (supported: ${FORMATS.join(', ')})`);
      return this.use(`${String(format)}-string`);
    }
    if (pattern !== undefined) {
      if (typeof pattern !== 'string') fail(`${name}: pattern must be a string`);
      if (minLength !== undefined || maxLength !== undefined)
        fail(`${name}: pattern with minLength/maxLength is not supported`);
      return this.define(name, `"\\"" ${patternToGrammar(pattern, name)} "\\""`);
    }
    const min = lengthBound(minLength, 'minLength', name) ?? 0;
    const max = lengthBound(maxLength, 'maxLength', name);
    if (max !== undefined && max < min) fail(`${name}: maxLength is below minLength`);
    // A length is counted in characters that every validator counts alike (see bmp-char).
    const char = min > 0 || max !== undefined ? 'bmp-char' : 'char';
    this.use(char);
    return `"\\"" ${repeat(char, min, max)} "\\""`;
  }

  private integerRule(schema: SchemaObject, name: string): string {
    let min = bound(schema.minimum, 'minimum', name);
    let max = bound(schema.maximum, 'maximum', name);
    const exMin = bound(schema.exclusiveMinimum, 'exclusiveMinimum', name);
    const exMax = bound(schema.exclusiveMaximum, 'exclusiveMaximum', name);
    if (exMin !== undefined) min = Math.max(min ?? -Infinity, Math.floor(exMin) + 1);
    if (exMax !== undefined) max = Math.min(max ?? Infinity, Math.ceil(exMax) - 1);
    if (min !== undefined) min = Math.ceil(min);
    if (max !== undefined) max = Math.floor(max);
    if (min === undefined && max === undefined) return this.use('integer');
    if (min !== undefined && max !== undefined && max < min)
      fail(`${name}: no integer lies between minimum and maximum`);
    return `(${integerRange(min ?? -Infinity, max ?? Infinity)})`;
  }

  private numberRule(schema: SchemaObject): string {
    const lows = [schema.minimum, schema.exclusiveMinimum].filter((v): v is number => typeof v === 'number');
    for (const keyword of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']) {
      if (schema[keyword] !== undefined && typeof schema[keyword] !== 'number') fail(`${keyword} must be a number`);
    }
    // The grammar keeps the sign; the exact bounds are checked when the output is validated.
    return lows.some((low) => low >= 0) ? this.use('nonnegative-number') : this.use('number');
  }

  private objectRule(schema: SchemaObject, name: string): string {
    const properties = schema.properties ?? {};
    if (!isObject(properties)) fail(`${name}: properties must be an object`);
    const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
    for (const key of required) {
      if (!(key in properties) && schema.additionalProperties === false)
        fail(`${name}: required property "${key}" is not allowed by additionalProperties`);
    }
    const names = Object.keys(properties);
    const declaredOnly = names.length > 0 || 'additionalProperties' in schema || required.size > 0;
    const additional = schema.additionalProperties ?? !declaredOnly;
    if (names.length === 0 && required.size === 0 && additional === true) return this.use('object');

    this.use('string');
    const kv = new Map<string, string>();
    for (const key of [...names, ...[...required].filter((k) => !(k in properties))]) {
      const value = this.named(properties[key] ?? true, `${name}-${key}`);
      kv.set(key, this.define(`${name}-${key}-kv`, `${gbnfLiteral(JSON.stringify(key))} space ":" space ${value}`));
    }
    let additionalKv: string | undefined;
    if (additional !== false) {
      const value =
        additional === true || (isObject(additional) && Object.keys(additional).length === 0)
          ? this.use('value')
          : this.named(additional, `${name}-additional-value`);
      const key =
        kv.size > 0
          ? this.define(`${name}-additional-k`, `"\\"" ${this.notStrings([...kv.keys()])} "\\""`)
          : this.use('string');
      additionalKv = this.define(`${name}-additional-kv`, `${key} ":" space ${value}`);
    }

    const requiredKeys = [...kv.keys()].filter((key) => required.has(key));
    const optionalKeys = [...kv.keys()].filter((key) => !required.has(key));
    // tail(i): optional properties i.. (any subset, in order) then additional ones, each after a comma.
    const tails: string[] = [];
    const tail = (i: number): string => {
      if (tails[i] !== undefined) return tails[i] as string;
      let body: string;
      if (i === optionalKeys.length) body = additionalKv === undefined ? '""' : `( "," space ${additionalKv} )*`;
      else body = `( "," space ${kv.get(optionalKeys[i] as string)} )? ${tail(i + 1)}`;
      tails[i] = this.define(`${name}-tail-${i}`, body);
      return tails[i] as string;
    };
    let inner: string;
    if (requiredKeys.length > 0) {
      inner = `${requiredKeys.map((key) => kv.get(key)).join(' "," space ')} ${tail(0)}`;
    } else {
      // Nothing required: the first member has no comma before it.
      const firsts = optionalKeys.map((key, i) => `${kv.get(key)} ${tail(i + 1)}`);
      if (additionalKv !== undefined) firsts.push(`${additionalKv} ${tail(optionalKeys.length)}`);
      inner = firsts.length === 0 ? '' : `( ${firsts.join(' | ')} )?`;
    }
    return this.define(name, `"{" space ${inner} space "}"`.replace(/ {2,}/g, ' '));
  }

  /** The content of a JSON string that is none of `strings` (a trie of what to avoid). */
  private notStrings(strings: string[]): string {
    this.use('char');
    this.use('char-escape');
    type Node = { children: Map<string, Node>; end: boolean };
    const trie: Node = { children: new Map(), end: false };
    for (const text of strings) {
      let node = trie;
      for (const ch of text) {
        let child = node.children.get(ch);
        if (child === undefined) {
          child = { children: new Map(), end: false };
          node.children.set(ch, child);
        }
        node = child;
      }
      node.end = true;
    }
    const build = (node: Node): string => {
      const options = [...node.children].map(([ch, child]) => `[${classChar(ch)}] ${build(child)}`);
      const excluded = [...node.children.keys()].map(classChar).join('');
      options.push(`[^"\\\\\\x7F\\x00-\\x1F${excluded}] char*`, 'char-escape char*');
      return `(${options.join(' | ')})${node.end ? '' : '?'}`;
    };
    return build(trie);
  }

  private arrayRule(schema: SchemaObject, name: string): string {
    const minItems = lengthBound(schema.minItems, 'minItems', name) ?? 0;
    const maxItems = lengthBound(schema.maxItems, 'maxItems', name);
    if (maxItems !== undefined && maxItems < minItems) fail(`${name}: maxItems is below minItems`);
    // Draft-4 tuples ("items": [...]) are prefixItems; an object "prefixItems" is read as items.
    const prefixItems = Array.isArray(schema.items) ? schema.items : schema.prefixItems;
    const items = Array.isArray(schema.items)
      ? false
      : (schema.items ?? (isObject(prefixItems) ? prefixItems : undefined));
    if (Array.isArray(prefixItems)) {
      const tuple = prefixItems.map((item, i) => this.named(item, `${name}-tuple-${i}`));
      if (tuple.length < minItems && (items === undefined || items === false))
        fail(`${name}: minItems exceeds the tuple`);
      let body = `"[" space ${tuple.join(' "," space ')}`;
      if (items !== undefined && items !== false) {
        const item = this.named(items, `${name}-item`);
        const extraMin = Math.max(0, minItems - tuple.length);
        const extraMax = maxItems === undefined ? undefined : Math.max(0, maxItems - tuple.length);
        const rest = `("," space ${item})`;
        body += ` ${tuple.length === 0 ? this.listOf(item, extraMin, extraMax) : repeat(rest, extraMin, extraMax)}`;
      }
      return this.define(name, `${body} space "]"`.replace(/ {2,}/g, ' '));
    }
    if (items === false) return this.define(name, '"[" space "]"');
    const item = items === undefined || items === true ? this.use('value') : this.named(items, `${name}-item`);
    if (minItems === 0 && maxItems === undefined && item === 'value') return this.use('array');
    return this.define(name, `"[" space ${this.listOf(item, minItems, maxItems)} space "]"`.replace(/ {2,}/g, ' '));
  }

  /** `item` repeated min..max times, comma-separated. */
  private listOf(item: string, min: number, max: number | undefined): string {
    if (max === 0) return '';
    const rest = repeat(`("," space ${item})`, Math.max(0, min - 1), max === undefined ? undefined : max - 1);
    const list = `${item} ${rest}`.trim();
    return min === 0 ? `(${list})?` : list;
  }
}

function lengthBound(value: unknown, keyword: string, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    fail(`${name}: ${keyword} must be a non-negative integer`);
  if (value > 100_000) fail(`${name}: ${keyword} of ${value} is too large for a grammar`);
  return value;
}

function bound(value: unknown, keyword: string, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(`${name}: ${keyword} must be a finite number`);
  if (Math.abs(value) >= 10 ** MAX_DIGITS) fail(`${name}: ${keyword} has more than ${MAX_DIGITS} digits`);
  return value;
}

/** GBNF alternatives matching the decimal forms of the integers in [min, max] (±Infinity: open). */
export function integerRange(min: number, max: number): string {
  const alternatives: string[] = [];
  if (min < 0) {
    // Negatives: "-" and the magnitudes in [max(1, -max), -min].
    const low = Math.max(1, max < 0 ? -max : 1);
    alternatives.push(`"-" (${naturals(low, -min)})`);
  }
  if (max >= 0) alternatives.push(naturals(Math.max(0, min), max));
  return alternatives.join(' | ');
}

/** The decimal forms (no leading zeros) of the naturals in [low, high], high may be Infinity. */
function naturals(low: number, high: number): string {
  const alternatives: string[] = [];
  const lowDigits = String(low).length;
  const highDigits = high === Infinity ? MAX_DIGITS : String(high).length;
  for (let digits = lowDigits; digits <= highDigits; digits++) {
    const from = digits === lowDigits ? low : 10 ** (digits - 1);
    const to = digits === highDigits && high !== Infinity ? high : 10 ** digits - 1;
    if (from > to) continue;
    if (high === Infinity && digits > lowDigits) {
      // Every longer number: one rule for all remaining lengths.
      alternatives.push(`[1-9] [0-9]{${digits - 1},${MAX_DIGITS - 1}}`);
      break;
    }
    alternatives.push(sameLength(String(from), String(to)));
  }
  return alternatives.join(' | ');
}

/** Numbers between `from` and `to`, digit strings of the same length. */
function sameLength(from: string, to: string): string {
  if (from.length === 0) return '""';
  const digit = (a: string, b: string) => (a === b ? `[${a}]` : `[${a}-${b}]`);
  const any = (n: number) => (n === 0 ? '' : n === 1 ? '[0-9]' : `[0-9]{${n}}`);
  if (from.length === 1) return digit(from, to);
  const first = from[0] as string;
  const last = to[0] as string;
  const restFrom = from.slice(1);
  const restTo = to.slice(1);
  const n = restFrom.length;
  if (first === last) return `${gbnfLiteral(first)} (${sameLength(restFrom, restTo)})`;
  const options: string[] = [];
  const lowFull = /^0*$/.test(restFrom);
  const highFull = /^9*$/.test(restTo);
  const middleFrom = Number(first) + (lowFull ? 0 : 1);
  const middleTo = Number(last) - (highFull ? 0 : 1);
  if (!lowFull) options.push(`[${first}] (${sameLength(restFrom, '9'.repeat(n))})`);
  if (middleFrom <= middleTo) options.push(`${digit(String(middleFrom), String(middleTo))} ${any(n)}`);
  if (!highFull) options.push(`[${last}] (${sameLength('0'.repeat(n), restTo)})`);
  return options.join(' | ');
}

/**
 * Converts a JSON Schema into a GBNF grammar (start rule `root`). Throws a LlamaError
 * `INVALID_JSON_SCHEMA` naming the place and the keyword it cannot honour.
 */
export function jsonSchemaToGrammar(schema: JsonSchema): string {
  return new Converter(schema).grammar();
}
