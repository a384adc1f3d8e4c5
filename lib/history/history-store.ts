import type { BackendContext } from '../backend/backend-context.js';
import type { Broker, PublishReport } from '../broker/broker.js';

/** The bounds of one channel's history, from its `@Channel` options. */
export interface HistoryLimits {
  /** Messages kept; the oldest are dropped first. */
  readonly size: number;
  /** Messages older than this are dropped; a channel with none left may be forgotten (a new epoch). */
  readonly ttlMs: number;
}

/** Where a channel's history stands: its epoch and the last offset given out (0 before the first message). */
export interface HistoryPosition {
  /** Changes whenever the history may have been lost (a restart of an in-memory store): old offsets mean nothing. */
  readonly epoch: string;
  readonly offset: number;
}

/** A kept message: its offset and the frame exactly as it was delivered (with the `offset` field). */
export interface HistoryEntry {
  readonly offset: number;
  readonly frame: string;
}

/** Which kept messages of a channel a read returns. */
export interface HistoryQuery {
  /** Only messages after this offset, oldest first; without it, the newest `limit` messages, oldest first. */
  readonly since?: number;
  readonly limit: number;
}

export interface HistoryPage extends HistoryPosition {
  readonly entries: readonly HistoryEntry[];
  /**
   * With `since`: whether every message after it is still kept (false when some were dropped by size or age, or
   * when `since` is ahead of the current offset). Always true without `since`.
   */
  readonly complete: boolean;
}

/** A message kept and published: its entry, the channel's position, and this node's deliveries (see `PublishReport`). */
export type KeptMessage = HistoryEntry & HistoryPosition & Pick<PublishReport, 'delivered'>;

/** Who a kept message is published to: its type (for counting) and the connections left out. */
export interface HistoryDelivery {
  readonly type: string;
  readonly except?: readonly string[];
  /** `false`: never compressed with permessage-deflate. */
  readonly compress?: false;
}

/** Keeps a message and publishes it to the channel's subscribers on every node in one atomic step. */
export interface AtomicAppendPublish {
  /** Keeps the message (the store gives out its offset) and publishes it with that offset, in one step. */
  appendAndPublish(
    channel: string,
    frame: string,
    limits: HistoryLimits,
    delivery: HistoryDelivery,
  ): Promise<KeptMessage>;
}

/**
 * Keeps the recent messages of channels with `history`, and gives out their offsets: one strictly increasing
 * counter per channel, assigned by the same authority that orders the history, so replay and live delivery agree.
 * The embedded default is {@link MemoryHistoryStore}; provide another with the `historyStore` option.
 */
export abstract class HistoryStore {
  /**
   * Assigns the channel's next offset to a message and keeps it. `frame` is the encoded envelope without an
   * offset; the store inserts it with {@link withOffset} and resolves to the entry (the frame to deliver).
   */
  abstract append(channel: string, frame: string, limits: HistoryLimits): Promise<HistoryEntry & HistoryPosition>;

  /** Starts the store (the same lifecycle as every backend: see `BackendContext`). The default does nothing. */
  start(_context: BackendContext): Promise<void> {
    return Promise.resolve();
  }

  /**
   * The optional capability to keep a message and publish it on `broker`'s own transport in one atomic step, so that
   * concurrent publishers on several nodes cannot overtake each other between the two (HARD-PARTS.md). Undefined (the
   * default) when this store cannot do that with this broker: the module then appends, then publishes.
   */
  atomicPublisher(_broker: Broker): AtomicAppendPublish | undefined {
    return undefined;
  }

  /** Reads kept messages, oldest first, and the channel's current position. */
  abstract read(channel: string, query: HistoryQuery, limits: HistoryLimits): Promise<HistoryPage>;

  /** Stops the store and releases its resources. */
  abstract close(): Promise<void>;
}

/** Inserts `"offset":N` as the first field of an encoded envelope (`{"type":...}` → `{"offset":N,"type":...}`). */
export function withOffset(frame: string, offset: number): string {
  return `{"offset":${offset},${frame.slice(1)}`;
}
