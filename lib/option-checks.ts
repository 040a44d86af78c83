// Option checks run in TypeScript before any native call: each failure is a LlamaError
// INVALID_OPTION naming the option, the expected value and what was given.
import { LlamaError, invalidOption } from './errors.js';
import { type LimitedOption, OPTION_LIMITS } from './limits.js';

/** An optional integer in [min, max]. */
export function optionalInteger(
  name: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    invalidOption(
      name,
      max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`,
      value,
    );
  }
  return value;
}

/** An optional option within its range in {@link OPTION_LIMITS} (the table the addon checks too);
 *  `label` names it in the error when the public option is spelled otherwise (`dry.base`). */
export function optionalLimited(name: LimitedOption, value: unknown, label: string = name): number | undefined {
  const { integer, min, max } = OPTION_LIMITS[name];
  return integer ? optionalInteger(label, value, min, max) : optionalNumber(label, value, min, max);
}

/** An optional finite number in [min, max]. */
export function optionalNumber(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    invalidOption(name, `a number from ${min} to ${max}`, value);
  }
  return value;
}

export function optionalBoolean(name: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') invalidOption(name, 'a boolean', value);
  return value;
}

export function optionalFunction<F extends (...args: never[]) => unknown>(name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') invalidOption(name, 'a function', value);
  return value as F;
}

export function optionalSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) invalidOption(name, 'an AbortSignal', value);
  return value;
}

/** The options argument itself: undefined or a plain object. */
export function optionsObject<T extends object>(name: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) invalidOption(name, 'an object', value);
  return value as Partial<T>;
}

/** Throws INVALID_OPTION for keys of `options` not in `known` (a typo must not pass silently). */
export function rejectUnknown(name: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new LlamaError('INVALID_OPTION', `${name} has no option "${key}" (known: ${known.join(', ')})`);
    }
  }
}
