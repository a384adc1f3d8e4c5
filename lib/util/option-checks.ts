import { describeValue } from './describe-value.js';

/**
 * Raised at boot for a bad configuration, whatever its place: a module option, a `@Channel` pattern or option, a
 * channel class (a join check missing or misnamed); the message names what is wrong and the value.
 */
export class RealtimeOptionsError extends Error {
  override readonly name = 'RealtimeOptionsError';
}

/**
 * Returns `value` when `valid`, else throws naming the option (`owner` says whose: `RealtimeModule option` by
 * default), what was expected and what it got.
 */
export function check<T>(
  name: string,
  value: T,
  valid: (value: T) => boolean,
  expected: string,
  owner = 'RealtimeModule option',
): T {
  if (!valid(value)) {
    throw new RealtimeOptionsError(`Invalid ${owner} "${name}": expected ${expected}, got ${describeValue(value)}`);
  }
  return value;
}

export function milliseconds(name: string, value: number, minimum = 1): number {
  return check(
    name,
    value,
    (candidate) => isIntegerIn(candidate, minimum, 2_147_483_647),
    `an integer number of milliseconds from ${minimum} to 2147483647`,
  );
}

/** A cap: a non-negative integer, where 0 means no cap. */
export function cap(name: string, value: number): number {
  return check(name, value, (candidate) => isInteger(candidate) && candidate >= 0, 'an integer from 0 (no cap)');
}

export function isBoolean(value: unknown): value is boolean {
  return typeof value === 'boolean';
}

export function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/** A safe integer from `min` to `max`, both included. */
export function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return isInteger(value) && value >= min && value <= max;
}

/** Whether `value` is an instance of `base`, or has its methods (an implementation built against another copy). */
export function implementsAll(value: unknown, base: abstract new () => object, methods: readonly string[]): boolean {
  if (value instanceof base) {
    return true;
  }
  const candidate = value as Record<string, unknown> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    methods.every((method) => typeof candidate[method] === 'function')
  );
}

/** Throws when an options object has a key outside `known`, listing the known ones. */
export function rejectUnknownKeys(what: string, options: object, known: readonly string[]): void {
  const key = unknownKey(options, known);
  if (key !== undefined) {
    throw new RealtimeOptionsError(`Unknown ${what} "${key}". Known options: ${known.join(', ')}`);
  }
}

/** The first key of `options` that is not in `known`; undefined when every key is known. */
export function unknownKey(options: object, known: readonly string[]): string | undefined {
  return Object.keys(options).find((key) => !known.includes(key));
}
