/** Reconnect delays: exponential, capped, with full jitter (a random delay up to the bound). */
export interface BackoffOptions {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first): a uniformly random time from 0 to
 * `min(maxDelayMs, minDelayMs * 2^attempt)`. Full jitter spreads clients that lost the same server over the whole
 * window, so they do not all come back at once (the AWS Architecture Blog's "Exponential Backoff And Jitter").
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const bound = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** Math.min(attempt, 52));
  return random() * bound;
}
