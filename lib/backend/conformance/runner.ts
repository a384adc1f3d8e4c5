/** The matchers of Jest's and Vitest's `expect` the conformance suites use. */
export interface ConformanceAssertions {
  /** The same value (`Object.is`). */
  toBe(expected: unknown): void;
  /** Equal, recursively. */
  toEqual(expected: unknown): void;
  /** Holds at least these properties, recursively. */
  toMatchObject(expected: object): void;
  /** `undefined`. */
  toBeUndefined(): void;
  /** Of this length. */
  toHaveLength(length: number): void;
  /** Greater than `value`. */
  toBeGreaterThan(value: number): void;
  /** At most `value`. */
  toBeLessThanOrEqual(value: number): void;
}

/** What `expect(actual)` gives: the matchers, negated with `not`, and `rejects` for a promise. */
export interface ConformanceMatchers extends ConformanceAssertions {
  readonly not: ConformanceAssertions;
  readonly rejects: {
    /** The promise rejects, with a message matching `expected`. */
    toThrow(expected?: string | RegExp): Promise<void>;
  };
}

/**
 * The test runner a conformance suite is declared with: pass Jest's or Vitest's own functions (imported from
 * `@jest/globals` or `vitest`), so the suite needs neither.
 */
export interface ConformanceRunner {
  /** Groups tests. */
  readonly describe: (name: string, body: () => void) => void;
  /** Declares a test. */
  readonly it: (name: string, body: () => Promise<void>, timeoutMs?: number) => void;
  /** Runs before each test of the group. */
  readonly beforeEach: (body: () => Promise<void>) => void;
  /** Runs after each test of the group. */
  readonly afterEach: (body: () => Promise<void>) => void;
  /** Asserts on a value. */
  readonly expect: (actual: unknown) => ConformanceMatchers;
}
