import { Injectable } from '@nestjs/common';

/** What `RealtimeService.stats()` reports: this node's counters since it started, and its current state. */
export interface RealtimeStatsSnapshot {
  /** Open connections on this node. */
  readonly connections: number;
  /** Channels with at least one connection of this node. */
  readonly channels: number;
  /** Valid frames received, per type (types no handler knows are counted as `other`). */
  readonly framesIn: Readonly<Record<string, number>>;
  /** Frames written, per type. */
  readonly framesOut: Readonly<Record<string, number>>;
  /** `error` frames sent, per code. */
  readonly errors: Readonly<Record<string, number>>;
  /** Handshakes refused before the upgrade, per HTTP status. */
  readonly handshakesRefused: Readonly<Record<string, number>>;
  /** Messages the `drop` backpressure policy did not write to connections past a bound. */
  readonly dropped: number;
  /** Volatile messages not written to connections past `volatileBufferedBytes`. */
  readonly droppedVolatile: number;
  /** Connections closed for not reading (close policy). */
  readonly slowConsumers: number;
  /** Frames and messages refused by a rate limit. */
  readonly rateLimited: number;
  /** Per message type, what handlers with `RealtimeMetricsInterceptor` did. */
  readonly handlers: Readonly<Record<string, HandlerStats>>;
}

/** What the metrics interceptor counted for one message type (in `stats().handlers`). */
export interface HandlerStats {
  readonly handled: number;
  readonly failed: number;
  /** Total time spent in the handler (and the interceptors inside the metrics one), in milliseconds. */
  readonly totalMs: number;
}

/** A counter per key, with a bounded number of keys: past it, new keys count as `other`. */
class KeyedCounter {
  readonly #counts = new Map<string, number>();

  constructor(private readonly maxKeys: number) {}

  add(key: string, amount = 1): void {
    const current = this.#counts.get(key);
    if (current !== undefined) {
      this.#counts.set(key, current + amount);
    } else if (this.#counts.size < this.maxKeys) {
      this.#counts.set(key, amount);
    } else {
      this.#counts.set('other', (this.#counts.get('other') ?? 0) + amount);
    }
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }
}

/** This node's counters. Cheap to bump on the hot path; read with `RealtimeService.stats()`. */
@Injectable()
export class RealtimeStats {
  readonly framesIn = new KeyedCounter(256);
  readonly framesOut = new KeyedCounter(256);
  readonly errors = new KeyedCounter(32);
  readonly handshakesRefused = new KeyedCounter(32);
  dropped = 0;
  droppedVolatile = 0;
  slowConsumers = 0;
  rateLimited = 0;
  readonly #handlers = new Map<string, { handled: number; failed: number; totalMs: number }>();

  /** Records one handled message (types are handler types: a bounded set). */
  handled(type: string, ms: number, failed: boolean): void {
    let entry = this.#handlers.get(type);
    if (entry === undefined) {
      entry = { handled: 0, failed: 0, totalMs: 0 };
      this.#handlers.set(type, entry);
    }
    entry.handled++;
    entry.totalMs += ms;
    if (failed) {
      entry.failed++;
    }
  }

  snapshot(connections: number, channels: number): RealtimeStatsSnapshot {
    return {
      connections,
      channels,
      framesIn: this.framesIn.snapshot(),
      framesOut: this.framesOut.snapshot(),
      errors: this.errors.snapshot(),
      handshakesRefused: this.handshakesRefused.snapshot(),
      dropped: this.dropped,
      droppedVolatile: this.droppedVolatile,
      slowConsumers: this.slowConsumers,
      rateLimited: this.rateLimited,
      handlers: Object.fromEntries([...this.#handlers].map(([type, entry]) => [type, { ...entry }])),
    };
  }
}
