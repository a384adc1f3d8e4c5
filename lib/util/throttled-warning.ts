import type { Logger } from '@nestjs/common';

/**
 * A warning that may repeat at every request (a refused origin): logged at most once per `intervalMs`; the next line
 * says how many were left out since the last one.
 */
export class ThrottledWarning {
  #lastAt = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  warn(message: string, now = Date.now()): void {
    if (now - this.#lastAt < this.intervalMs) {
      this.#suppressed++;
      return;
    }
    const more = this.#suppressed === 0 ? '' : ` (and ${this.#suppressed} more since the last such line)`;
    this.#suppressed = 0;
    this.#lastAt = now;
    this.logger.warn(`${message}${more}`);
  }
}
