import type { ConformanceRunner } from './runner.js';

/**
 * Two nodes of one backend (for an in-process backend, the same object twice) and how to end them: what the
 * presence, history, counter and rate-limit suites' `open` returns (`startedPair` makes one).
 */
export interface TwoNodes<T> {
  readonly nodes: readonly [T, T];
  /** Ends what `open` started (called after each test). */
  close(): Promise<void>;
}

/** Opens a fresh backend before each test of the enclosing group, hands its two nodes to `use`, closes it after. */
export function eachTestOnTwoNodes<T>(
  runner: ConformanceRunner,
  open: () => Promise<TwoNodes<T>>,
  use: (nodes: readonly [T, T]) => void,
): void {
  let backend: TwoNodes<T>;
  runner.beforeEach(async () => {
    backend = await open();
    use(backend.nodes);
  });
  runner.afterEach(async () => {
    await backend.close();
  });
}
