import { SetMetadata, UseGuards, applyDecorators } from '@nestjs/common';
import { RATE_LIMIT_METADATA } from '../realtime.constants.js';
import { checkRateLimitRule } from './protection.options.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import type { RateLimitRule } from './rate-limit-store.js';

/**
 * Limits a realtime handler (or every handler and the join check of a class): at most `limit` messages per
 * `windowMs` per user (per connection when anonymous), as a token bucket. Past it, the client gets `RATE_LIMITED`
 * with `retryAfterMs`. On a method it wins over the class's. It applies {@link RateLimitGuard} itself; the
 * module-wide `rateLimit` on every frame still applies too.
 *
 * @example
 * ```ts
 * @RateLimit({ limit: 5, windowMs: 10_000 })
 * @OnMessage('chat:group')
 * send(@Payload() message: ChatMessage) { ... }
 * ```
 */
export function RateLimit(rule: RateLimitRule): ClassDecorator & MethodDecorator {
  const checked = checkRateLimitRule('@RateLimit', rule);
  return applyDecorators(SetMetadata(RATE_LIMIT_METADATA, checked), UseGuards(RateLimitGuard));
}
