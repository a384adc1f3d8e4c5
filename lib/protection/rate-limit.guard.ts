import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RateLimitedException } from '../errors/realtime.exception.js';
import type { RealtimeConnection } from '../interfaces/realtime-connection.interface.js';
import { RATE_LIMIT_METADATA } from '../realtime.constants.js';
import { rateLimitSubject } from './rate-limit-key.js';
import { RateLimitBudget } from './rate-limit-budget.js';
import type { RateLimitRule } from './rate-limit-store.js';

/**
 * Enforces `@RateLimit` on realtime handlers and join checks (the handler's rule wins over the class's); anything
 * else (HTTP routes, handlers without a rule) passes. Applied by `@RateLimit` itself; a message is counted once even
 * when both its class and its method carry the guard.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  /** Messages already counted: the third handler argument is one object per message. */
  readonly #counted = new WeakSet<object>();

  constructor(
    private readonly reflector: Reflector,
    private readonly budget: RateLimitBudget,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'ws') {
      return true;
    }
    const rule = this.reflector.getAllAndOverride<RateLimitRule | undefined>(RATE_LIMIT_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    const client = context.switchToWs().getClient<Partial<RealtimeConnection>>();
    const message = context.getArgByIndex<unknown>(2);
    if (rule === undefined || typeof client?.id !== 'string' || typeof message !== 'object' || message === null) {
      return true;
    }
    if (this.#counted.has(message)) {
      return true;
    }
    this.#counted.add(message);
    const key = `${context.getClass().name}.${context.getHandler().name}:${rateLimitSubject(client as RealtimeConnection)}`;
    const verdict = await this.budget.consume(key, rule, client as RealtimeConnection);
    if (!verdict.allowed) {
      throw new RateLimitedException(
        verdict.retryAfterMs,
        `Rate limit exceeded: at most ${rule.limit} per ${rule.windowMs} ms`,
      );
    }
    return true;
  }
}
