import { type RateLimitRule, RateLimitStore, type RateLimitVerdict } from './rate-limit-store.js';

interface Bucket {
  tokens: number;
  updatedAt: number;
  readonly rule: RateLimitRule;
}

/** How the in-process rate-limit store forgets idle buckets. */
export interface MemoryRateLimitStoreOptions {
  /** How often full buckets (idle keys) are forgotten. Default 60 000 ms. */
  readonly sweepIntervalMs?: number;
  /** The clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Token buckets in memory: each key holds up to `limit` tokens, refilled at `limit` per `windowMs`; a frame takes
 * one. Memory is one small object per active key; buckets that have refilled completely are forgotten.
 */
export class MemoryRateLimitStore extends RateLimitStore {
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    super();
    this.#now = options.now ?? Date.now;
    this.#sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000).unref();
  }

  consume(key: string, rule: RateLimitRule): RateLimitVerdict {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: rule.limit, updatedAt: now, rule };
      this.#buckets.set(key, bucket);
    } else {
      refill(bucket, now);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return ALLOWED;
    }
    const perToken = rule.windowMs / rule.limit;
    return { allowed: false, retryAfterMs: Math.max(1, Math.ceil((1 - bucket.tokens) * perToken)) };
  }

  /** Forgets buckets that are full again: their keys have been quiet for a whole window. */
  sweep(): void {
    const now = this.#now();
    for (const [key, bucket] of this.#buckets) {
      refill(bucket, now);
      if (bucket.tokens >= bucket.rule.limit) {
        this.#buckets.delete(key);
      }
    }
  }

  /** Keys with a bucket (for tests and stats). */
  get size(): number {
    return this.#buckets.size;
  }

  close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#buckets.clear();
    return Promise.resolve();
  }
}

const ALLOWED: RateLimitVerdict = Object.freeze({ allowed: true, retryAfterMs: 0 });

function refill(bucket: Bucket, now: number): void {
  const elapsed = now - bucket.updatedAt;
  if (elapsed > 0) {
    const { limit, windowMs } = bucket.rule;
    bucket.tokens = Math.min(limit, bucket.tokens + (elapsed * limit) / windowMs);
    bucket.updatedAt = now;
  }
}
