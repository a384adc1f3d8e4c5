import type { BackendContext } from '../backend/backend-context.js';
import { type RateLimitRule, RateLimitStore, type RateLimitVerdict } from '../protection/rate-limit-store.js';
import type { NatsConnections } from './nats-connections.js';
import { token } from './nats-names.js';

/** A bucket as this instance last wrote or read it: the KV revision to update, and the state at that revision. */
interface KnownBucket {
  readonly revision: number;
  readonly tokens: number;
  readonly at: number;
}

const ALLOWED: RateLimitVerdict = Object.freeze({ allowed: true, retryAfterMs: 0 });
const MAX_ATTEMPTS = 20;
/** Buckets remembered per instance; the oldest are forgotten first (they are read again when needed). */
const MAX_KNOWN = 10_000;

/**
 * Rate-limit buckets shared by every instance on a NATS JetStream KV bucket, so a user's limit holds for the whole
 * cluster. A check writes the bucket by compare-and-set on the revision this instance last saw: one round trip
 * while the user's frames come through one instance (the usual case), a read and a retry when another instance wrote
 * it meanwhile. A refusal needs no round trip: other instances can only have taken tokens since. Token refills use
 * each instance's clock. On by `natsRealtime({ sharedRateLimits: true })`; while NATS cannot answer, checks fail
 * open (see `RateLimitBudget`).
 *
 * Made by `natsRealtime()`.
 */
export class NatsRateLimitStore extends RateLimitStore {
  readonly #known = new Map<string, KnownBucket>();
  #started = false;

  /** @internal */
  constructor(private readonly connections: NatsConnections) {
    super();
  }

  override async start(_context: BackendContext): Promise<void> {
    await this.connections.acquire();
    this.#started = true;
  }

  async consume(key: string, rule: RateLimitRule): Promise<RateLimitVerdict> {
    const entryKey = `r.${token(key)}`;
    return this.connections.run('checking a rate limit', async ({ rateLimits }) => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        let known = this.#known.get(entryKey);
        if (known === undefined) {
          const entry = await rateLimits.get(entryKey);
          const state = entry !== null && entry.operation === 'PUT' ? parse(entry.string()) : undefined;
          known = { revision: entry?.revision ?? 0, tokens: state?.tokens ?? rule.limit, at: state?.at ?? Date.now() };
        }
        const now = Date.now();
        const tokens = Math.min(rule.limit, known.tokens + (Math.max(0, now - known.at) * rule.limit) / rule.windowMs);
        if (tokens < 1) {
          return { allowed: false, retryAfterMs: Math.max(1, Math.ceil(((1 - tokens) * rule.windowMs) / rule.limit)) };
        }
        const value = JSON.stringify({ tokens: tokens - 1, at: now });
        try {
          const revision =
            known.revision === 0
              ? await rateLimits.create(entryKey, value)
              : await rateLimits.update(entryKey, value, known.revision);
          this.#remember(entryKey, { revision, tokens: tokens - 1, at: now });
          return ALLOWED;
        } catch {
          this.#known.delete(entryKey); // another instance wrote it: read it again
        }
      }
      throw new Error(`A rate-limit check of "${key}" lost ${MAX_ATTEMPTS} races in a row`);
    });
  }

  async close(): Promise<void> {
    this.#known.clear();
    if (this.#started) {
      this.#started = false;
      await this.connections.release();
    }
  }

  #remember(key: string, bucket: KnownBucket): void {
    this.#known.delete(key);
    this.#known.set(key, bucket);
    if (this.#known.size > MAX_KNOWN) {
      this.#known.delete(this.#known.keys().next().value!);
    }
  }
}

function parse(text: string): { tokens: number; at: number } | undefined {
  try {
    const value = JSON.parse(text) as { tokens?: unknown; at?: unknown };
    return typeof value.tokens === 'number' && typeof value.at === 'number'
      ? { tokens: value.tokens, at: value.at }
      : undefined;
  } catch {
    return undefined;
  }
}
