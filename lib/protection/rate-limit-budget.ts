import { Injectable, Logger } from '@nestjs/common';
import { FailureCode, RealtimeBrokerError } from '../errors/realtime-failure.js';
import type { RealtimeConnection } from '../interfaces/realtime-connection.interface.js';
import { LifecycleHooks } from '../routing/lifecycle-hooks.js';
import { type RateLimitRule, RateLimitStore, type RateLimitVerdict } from './rate-limit-store.js';

const ALLOWED: RateLimitVerdict = Object.freeze({ allowed: true, retryAfterMs: 0 });

/**
 * Every rate-limit check goes through here (the per-frame limit and `@RateLimit`), so a store outage is handled one
 * way: rate limits fail open. A frame is let through while the store cannot answer, since refusing every frame of
 * every user would turn a store outage into a full outage. The outage is logged at ERROR once when it starts (with
 * each failure reported to `OnRealtimeError` as `BROKER_FAILED`), and at LOG when the store answers again, with how
 * many checks were let through meanwhile.
 */
@Injectable()
export class RateLimitBudget {
  readonly #logger = new Logger('RealtimeModule');
  /** Checks let through since the outage began; undefined while the store answers. */
  #letThrough: number | undefined;

  constructor(
    private readonly store: RateLimitStore,
    private readonly hooks: LifecycleHooks,
  ) {}

  /** Takes a token from the bucket `key`; synchronous when the store is. */
  consume(key: string, rule: RateLimitRule, client?: RealtimeConnection): RateLimitVerdict | Promise<RateLimitVerdict> {
    let verdict: RateLimitVerdict | Promise<RateLimitVerdict>;
    try {
      verdict = this.store.consume(key, rule);
    } catch (error) {
      return this.#failOpen(error, client);
    }
    if (verdict instanceof Promise) {
      return verdict.then(
        (answered) => this.#answered(answered),
        (error: unknown) => this.#failOpen(error, client),
      );
    }
    return this.#answered(verdict);
  }

  #answered(verdict: RateLimitVerdict): RateLimitVerdict {
    if (this.#letThrough !== undefined) {
      this.#logger.log(`The rate-limit store answers again; ${this.#letThrough} checks were let through meanwhile`);
      this.#letThrough = undefined;
    }
    return verdict;
  }

  #failOpen(error: unknown, client: RealtimeConnection | undefined): RateLimitVerdict {
    const what = 'The rate-limit store failed; the frame was let through (rate limits fail open)';
    if (this.#letThrough === undefined) {
      this.#letThrough = 0;
      this.#logger.error(`${what}: ${(error as Error)?.message ?? String(error)}`, (error as Error)?.stack);
    }
    this.#letThrough++;
    this.hooks.report(() => new RealtimeBrokerError(FailureCode.BROKER_FAILED, what, { client, cause: error }));
    return ALLOWED;
  }
}
