import type { ConnectionRegistry } from '../connection/connection-registry.js';
import { CloseCode } from '../protocol/error-codes.js';

/**
 * One timer for every connection (a timer per connection costs memory and wakeups): each sweep pings the live
 * connections, asks the silent ones to close with 4001, and cuts those that did not close since the last sweep.
 */
export class Heartbeat {
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
  ) {
    this.#timer = setInterval(() => this.sweep(), intervalMs);
    this.#timer.unref();
  }

  sweep(now = Date.now()): void {
    for (const connection of this.registry.all()) {
      if (connection.closeRequestedAt !== undefined) {
        if (now - connection.closeRequestedAt >= this.intervalMs) {
          connection.terminate();
        }
      } else if (now - connection.lastSeenAt > this.timeoutMs) {
        connection.requestClose(CloseCode.HEARTBEAT_TIMEOUT, 'Heartbeat timeout', now);
      } else {
        connection.ping();
      }
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
