import type { Duplex } from 'node:stream';

/**
 * The handshakes being authenticated, each with its deadline, and one timer for all of them (a timer per handshake
 * costs a timer-list insert and removal on every connection). The timer checks every tenth of the timeout (between
 * 10 ms and 1 s), so a handshake is cut between `timeoutMs` and `timeoutMs` plus that period.
 */
export class HandshakeDeadlines {
  readonly #deadlines = new Map<Duplex, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly timeoutMs: number,
    private readonly onExpired: (socket: Duplex) => void,
  ) {
    const period = Math.min(1000, Math.max(10, Math.floor(timeoutMs / 10)));
    this.#timer = setInterval(() => this.sweep(Date.now()), period).unref();
  }

  start(socket: Duplex, now: number): void {
    this.#deadlines.set(socket, now + this.timeoutMs);
  }

  /** Ends a handshake's wait; false when it had already expired (or was cut on shutdown). */
  finish(socket: Duplex): boolean {
    return this.#deadlines.delete(socket);
  }

  sweep(now: number): void {
    for (const [socket, deadline] of this.#deadlines) {
      if (now >= deadline) {
        this.#deadlines.delete(socket);
        this.onExpired(socket);
      }
    }
  }

  /** Stops the timer and destroys the sockets of the handshakes still waiting. */
  stop(): void {
    clearInterval(this.#timer);
    for (const socket of this.#deadlines.keys()) {
      socket.destroy();
    }
    this.#deadlines.clear();
  }
}
