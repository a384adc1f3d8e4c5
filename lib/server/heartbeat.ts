import type { ConnectionRegistry } from '../connection/connection-registry.js';
import type { Connection } from '../connection/connection.js';
import { FailureCode, RealtimeConnectionError } from '../errors/realtime-failure.js';
import { CloseCode } from '../protocol/error-codes.js';
import type { LifecycleHooks } from '../routing/lifecycle-hooks.js';

/**
 * One timer for every connection (a timer per connection costs memory and wakeups): each sweep pings the live
 * connections, asks the silent ones to close with 4001 (after the heartbeat-timeout hooks agree), and cuts those
 * that did not close since the last sweep.
 */
export class Heartbeat {
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly hooks: LifecycleHooks,
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
        this.#timedOut(connection, now);
      } else {
        connection.ping(now);
      }
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #timedOut(connection: Connection, now: number): void {
    const silentMs = now - connection.lastSeenAt;
    const verdict = this.hooks.mayCloseSilent(connection, silentMs);
    if (verdict === true) {
      this.#close(connection, silentMs, now);
      return;
    }
    // The hooks decide asynchronously: meanwhile the connection counts as seen, so the next sweeps do not ask again.
    connection.markSeen(now);
    void verdict.then((close) => {
      if (close) {
        this.#close(connection, silentMs, Date.now());
      }
    });
  }

  #close(connection: Connection, silentMs: number, now: number): void {
    if (connection.closed || connection.closeRequestedAt !== undefined) {
      return;
    }
    connection.requestClose(CloseCode.HEARTBEAT_TIMEOUT, 'Heartbeat timeout', now);
    this.hooks.report(
      () =>
        new RealtimeConnectionError(FailureCode.HEARTBEAT_TIMEOUT, `Silent for ${silentMs} ms: closed with 4001`, {
          client: connection.view,
          closeCode: CloseCode.HEARTBEAT_TIMEOUT,
        }),
    );
  }
}
