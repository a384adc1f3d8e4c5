import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Connection } from '../connection/connection.js';
import { ErrorResponder } from '../exceptions/error-responder.js';
import type { FrameId } from '../protocol/envelope.js';
import { RealtimeRateLimitError } from '../errors/realtime-failure.js';
import { CloseCode, ErrorCode } from '../protocol/error-codes.js';
import { RESOLVED_OPTIONS } from '../realtime.constants.js';
import type { ResolvedRealtimeOptions } from '../realtime.options.js';
import type { ResolvedRateLimit } from './protection.options.js';
import { rateLimitSubject } from './rate-limit-key.js';
import { RateLimitBudget } from './rate-limit-budget.js';
import type { RateLimitVerdict } from './rate-limit-store.js';
import { LifecycleHooks } from '../routing/lifecycle-hooks.js';

/**
 * The module-wide rate limit: every inbound frame takes a token from its user's bucket (the connection's when
 * anonymous), control frames, whispers and malformed frames included. A refused frame is answered `RATE_LIMITED`
 * with `retryAfterMs`; a connection refused `closeAfter` times within one window is closed with 1008.
 */
@Injectable()
export class FrameRateLimiter {
  readonly #logger = new Logger('RealtimeModule');
  readonly #rule: ResolvedRateLimit | undefined;

  constructor(
    @Inject(RESOLVED_OPTIONS) options: ResolvedRealtimeOptions,
    private readonly budget: RateLimitBudget,
    private readonly errors: ErrorResponder,
    private readonly hooks: LifecycleHooks,
  ) {
    this.#rule = options.rateLimit;
  }

  /** Undefined when frames are not limited. A store that fails lets the frame through (see `RateLimitBudget`). */
  consume(connection: Connection): RateLimitVerdict | Promise<RateLimitVerdict> | undefined {
    if (this.#rule === undefined) {
      return undefined;
    }
    const key = (connection.rateLimitKey ??= `frames:${rateLimitSubject(connection)}`);
    return this.budget.consume(key, this.#rule, connection.view);
  }

  refuse(connection: Connection, verdict: RateLimitVerdict, replyTo: FrameId | undefined): void {
    const rule = this.#rule!;
    this.errors.refuse(
      connection,
      {
        code: ErrorCode.RATE_LIMITED,
        message: `Rate limit exceeded: at most ${rule.limit} frames per ${rule.windowMs} ms`,
        details: { retryAfterMs: verdict.retryAfterMs },
      },
      replyTo,
    );
    if (rule.closeAfter > 0 && connection.countRefusal(Date.now(), rule.windowMs) >= rule.closeAfter) {
      this.#logger.warn(`[${connection.id}] closed for exceeding the rate limit ${rule.closeAfter} times in a window`);
      connection.close(CloseCode.POLICY_VIOLATION, 'Rate limit exceeded');
      this.hooks.report(
        () =>
          new RealtimeRateLimitError(
            ErrorCode.RATE_LIMITED,
            `Refused ${rule.closeAfter} times within ${rule.windowMs} ms: closed with 1008`,
            { client: connection.view, closeCode: CloseCode.POLICY_VIOLATION },
          ),
      );
    }
  }
}
