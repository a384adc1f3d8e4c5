import type { BackendContext } from '../backend/backend-context.js';
import { type RateLimitRule, RateLimitStore, type RateLimitVerdict } from '../protection/rate-limit-store.js';
import type { RedisConnections } from './redis-connections.js';

/**
 * Rate-limit buckets shared by every instance, on Redis (or a Redis Cluster: each bucket on its own slot), so a
 * user's limit holds for the whole cluster instead of once per instance. A check is one round trip (a Lua token
 * bucket on Redis time), so the frame waits for it: on by `redisRealtime({ sharedRateLimits: true })`. A bucket's key
 * expires once it would be full again. While Redis cannot answer, checks fail open (see `RateLimitBudget`).
 *
 * Made by `redisRealtime()`.
 */
export class RedisRateLimitStore extends RateLimitStore {
  #started = false;

  /** @internal */
  constructor(private readonly connections: RedisConnections) {
    super();
  }

  override async start(_context: BackendContext): Promise<void> {
    await this.connections.acquire();
    this.#started = true;
  }

  async consume(key: string, rule: RateLimitRule): Promise<RateLimitVerdict> {
    const bucket = `${this.connections.keyPrefix}{ratelimit:${key}}`;
    const retryAfterMs = await this.connections.run('checking a rate limit', (redis) =>
      redis.realtimeRateLimit(bucket, rule.limit, rule.windowMs),
    );
    return retryAfterMs === 0 ? ALLOWED : { allowed: false, retryAfterMs };
  }

  async close(): Promise<void> {
    if (this.#started) {
      this.#started = false;
      await this.connections.release();
    }
  }
}

const ALLOWED: RateLimitVerdict = Object.freeze({ allowed: true, retryAfterMs: 0 });
