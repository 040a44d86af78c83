// Output of a schema-constrained generation: parsed, validated against the schema (ajv, JSON Schema
// 2020-12 with formats), and returned typed — or a LlamaError INVALID_JSON_OUTPUT saying why not.
import { createRequire } from 'node:module';

import type { ValidateFunction } from 'ajv';

import { LlamaError } from '../errors.js';
import type { JsonSchema } from './json-schema.js';

const require = createRequire(import.meta.url);

type AjvInstance = { compile: (schema: unknown) => ValidateFunction; errorsText: (errors: unknown) => string };
let ajv: AjvInstance | undefined;
const validators = new WeakMap<object, ValidateFunction>();

function validator(schema: JsonSchema): ValidateFunction {
  if (ajv === undefined) {
    const Ajv2020 = (require('ajv/dist/2020') as { default: new (options: object) => AjvInstance }).default;
    const addFormats = require('ajv-formats') as (instance: AjvInstance) => void;
    ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(ajv);
  }
  const key = typeof schema === 'object' ? schema : { schema };
  let validate = validators.get(key);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    validators.set(key, validate);
  }
  return validate;
}

/** Checks `schema` compiles for validation (before any generation). */
export function prepareValidator(schema: JsonSchema): void {
  try {
    validator(schema);
  } catch (error) {
    throw new LlamaError('INVALID_JSON_SCHEMA', `the schema is not valid JSON Schema: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Parses and validates a generation's text. */
export function parseJsonOutput<T>(text: string, schema: JsonSchema, stopReason: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const why = stopReason === 'eog' ? 'does not parse' : `stopped (${stopReason}) before the JSON was complete`;
    throw new LlamaError('INVALID_JSON_OUTPUT', `the output ${why}: ${JSON.stringify(text.slice(0, 200))}`, {
      cause: error,
    });
  }
  const validate = validator(schema);
  if (!validate(value)) {
    throw new LlamaError(
      'INVALID_JSON_OUTPUT',
      `the output does not match the schema: ${ajv?.errorsText(validate.errors)}`,
    );
  }
  return value as T;
}

/** Why `value` does not match `schema`, or undefined when it does. */
export function checkJsonValue(value: unknown, schema: JsonSchema): string | undefined {
  const validate = validator(schema);
  return validate(value) ? undefined : (ajv?.errorsText(validate.errors) ?? 'invalid');
}
