import type { BackendContext } from '../backend/backend-context.js';

/** A rate limit: at most `limit` frames per `windowMs`, as a token bucket (bursts up to `limit`). */
export interface RateLimitRule {
  readonly limit: number;
  readonly windowMs: number;
}

/** A rate-limit store's answer for one frame: allowed, or when to retry. */
export interface RateLimitVerdict {
  readonly allowed: boolean;
  /** When refused: how long until one more frame would be allowed. */
  readonly retryAfterMs: number;
}

/**
 * Where rate-limit buckets live. The embedded default is {@link MemoryRateLimitStore} (per process); a shared store
 * (on Redis) makes limits hold across instances. `consume` may answer synchronously: the per-frame limit then
 * costs no promise.
 */
export abstract class RateLimitStore {
  /** Starts the store (the same lifecycle as every backend: see `BackendContext`). The default does nothing. */
  start(_context: BackendContext): Promise<void> {
    return Promise.resolve();
  }

  /** Takes one token from the bucket `key`, created full on first use. */
  abstract consume(key: string, rule: RateLimitRule): RateLimitVerdict | Promise<RateLimitVerdict>;

  /** Releases resources. */
  abstract close(): Promise<void>;
}
