import { isDeepStrictEqual } from 'node:util';

/**
 * What an expectation compares a payload with: a predicate, or a value the payload must contain (objects match when
 * every key given matches, recursively, like Jest's `toMatchObject`; arrays element by element; other values
 * strictly; bytes by content).
 */
export type PayloadMatcher<T = unknown> = ((payload: T) => boolean) | DeepPartial<T> | (T extends object ? never : T);

type DeepPartial<T> = T extends readonly (infer E)[]
  ? readonly DeepPartial<E>[]
  : T extends Uint8Array
    ? T
    : T extends object
      ? { readonly [K in keyof T]?: DeepPartial<T[K]> }
      : T;

/** Whether `payload` satisfies `matcher` (undefined: anything does). */
export function matchesPayload(payload: unknown, matcher: unknown): boolean {
  if (matcher === undefined) {
    return true;
  }
  if (typeof matcher === 'function') {
    return (matcher as (payload: unknown) => boolean)(payload) === true;
  }
  return contains(payload, matcher);
}

function contains(actual: unknown, expected: unknown): boolean {
  if (expected instanceof Uint8Array || actual instanceof Uint8Array) {
    return (
      expected instanceof Uint8Array &&
      actual instanceof Uint8Array &&
      Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected)
    );
  }
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, index) => contains(actual[index], item))
    );
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) {
      return false;
    }
    return Object.entries(expected).every(([key, value]) => contains((actual as Record<string, unknown>)[key], value));
  }
  return isDeepStrictEqual(actual, expected);
}

/** A matcher as a failure message shows it. */
export function describeMatcher(matcher: unknown): string {
  if (matcher === undefined) {
    return '';
  }
  if (typeof matcher === 'function') {
    return ` matching ${matcher.name || 'a predicate'}`;
  }
  return ` with a payload containing ${abbreviate(matcher)}`;
}

/** A value in a failure message: JSON, cut at `max` characters. */
export function abbreviate(value: unknown, max = 200): string {
  let text: string;
  try {
    text =
      JSON.stringify(value, (_key, item: unknown) =>
        item instanceof Uint8Array ? `<${item.byteLength} bytes>` : item,
      ) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
