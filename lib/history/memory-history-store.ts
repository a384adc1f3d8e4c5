import { randomBytes } from 'node:crypto';
import {
  type HistoryEntry,
  type HistoryLimits,
  type HistoryPage,
  type HistoryPosition,
  type HistoryQuery,
  HistoryStore,
  withOffset,
} from './history-store.js';

interface KeptEntry extends HistoryEntry {
  readonly at: number;
}

interface ChannelHistory {
  readonly epoch: string;
  offset: number;
  /** Every offset up to this one has been dropped (by size or age). */
  droppedThrough: number;
  readonly entries: KeptEntry[];
  touchedAt: number;
  ttlMs: number;
  /** The characters of the kept frames: what the store's `maxBytes` counts. */
  size: number;
}

/** The bounds of the in-process history store. */
export interface MemoryHistoryStoreOptions {
  /**
   * Channels kept at most; past it the least recently used is forgotten (its next use starts a new epoch, so a
   * recovery says `recovered: false`). Default 10 000.
   */
  readonly maxChannels?: number;
  /** Kept frames in all channels, in bytes (UTF-16 code units, as JS holds them) at most; least recently used first. Default 64 MiB. */
  readonly maxBytes?: number;
  /** How often channels whose history has fully expired are forgotten. Default 60 000 ms. */
  readonly sweepIntervalMs?: number;
  /** The clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The embedded history store: in memory, per process. Each channel's epoch is new whenever its history starts
 * afresh (a new process, a channel forgotten after its messages all expired, or pushed out by the caps), so offsets
 * from before never pass for current ones. Memory is bounded three ways: `size` messages per channel, `ttlMs` (a
 * channel whose messages have all expired and that was idle that long is forgotten at the next sweep), and the
 * store's `maxChannels` and `maxBytes`, least recently used channel first.
 */
export class MemoryHistoryStore extends HistoryStore {
  /** In least recently used order: a channel used is moved to the end. */
  readonly #channels = new Map<string, ChannelHistory>();
  readonly #storeId = randomBytes(4).toString('hex');
  readonly #now: () => number;
  readonly #sweepIntervalMs: number;
  readonly #maxChannels: number;
  readonly #maxBytes: number;
  #bytes = 0;
  #generation = 0;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: MemoryHistoryStoreOptions = {}) {
    super();
    this.#now = options.now ?? Date.now;
    this.#sweepIntervalMs = positive('sweepIntervalMs', options.sweepIntervalMs ?? 60_000);
    this.#maxChannels = positive('maxChannels', options.maxChannels ?? 10_000);
    this.#maxBytes = positive('maxBytes', options.maxBytes ?? 64 * 1024 * 1024);
  }

  append(channel: string, frame: string, limits: HistoryLimits): Promise<HistoryEntry & HistoryPosition> {
    const now = this.#now();
    const history = this.#open(channel, limits, now);
    const offset = ++history.offset;
    const entry: KeptEntry = { offset, frame: withOffset(frame, offset), at: now };
    history.entries.push(entry);
    this.#grow(history, entry.frame.length);
    if (history.entries.length > limits.size) {
      this.#drop(history, history.entries.length - limits.size);
    }
    this.#evictPastCaps(history);
    return Promise.resolve({ offset, frame: entry.frame, epoch: history.epoch });
  }

  read(channel: string, query: HistoryQuery, limits: HistoryLimits): Promise<HistoryPage> {
    const history = this.#open(channel, limits, this.#now());
    this.#evictPastCaps(history);
    const { entries, epoch, offset } = history;
    const { since, limit } = query;
    if (since === undefined) {
      const page = entries.slice(Math.max(0, entries.length - limit)).map(toEntry);
      return Promise.resolve({ epoch, offset, entries: page, complete: true });
    }
    const complete = since >= history.droppedThrough && since <= offset;
    const first = entries.findIndex((entry) => entry.offset > since);
    const page = first === -1 ? [] : entries.slice(first, first + limit).map(toEntry);
    return Promise.resolve({ epoch, offset, entries: page, complete });
  }

  /** Channels whose history is held (for tests and stats). */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** What the kept frames weigh, as `maxBytes` counts it (for tests and stats). */
  get bytes(): number {
    return this.#bytes;
  }

  close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#channels.clear();
    this.#bytes = 0;
    return Promise.resolve();
  }

  /** Forgets channels whose messages have all expired and that have been idle for their `ttlMs`. */
  sweep(): void {
    const now = this.#now();
    for (const [channel, history] of this.#channels) {
      this.#expire(history, now);
      if (history.entries.length === 0 && now - history.touchedAt >= history.ttlMs) {
        this.#forget(channel, history);
      }
    }
    if (this.#channels.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  #open(channel: string, limits: HistoryLimits, now: number): ChannelHistory {
    let history = this.#channels.get(channel);
    if (history === undefined) {
      history = {
        epoch: `${this.#storeId}-${(++this.#generation).toString(36)}`,
        offset: 0,
        droppedThrough: 0,
        entries: [],
        touchedAt: now,
        ttlMs: limits.ttlMs,
        size: 0,
      };
    } else {
      this.#channels.delete(channel); // re-inserted last: the most recently used
    }
    this.#channels.set(channel, history);
    history.touchedAt = now;
    history.ttlMs = limits.ttlMs;
    this.#expire(history, now);
    this.#sweeper ??= setInterval(() => this.sweep(), this.#sweepIntervalMs).unref();
    return history;
  }

  /** Forgets the least recently used channels (never `current`) while the store is past a cap. */
  #evictPastCaps(current: ChannelHistory): void {
    for (const [channel, history] of this.#channels) {
      if (this.#channels.size <= this.#maxChannels && this.#bytes <= this.#maxBytes) {
        return;
      }
      if (history !== current) {
        this.#forget(channel, history);
      }
    }
  }

  #forget(channel: string, history: ChannelHistory): void {
    this.#channels.delete(channel);
    this.#bytes -= history.size;
  }

  #grow(history: ChannelHistory, size: number): void {
    history.size += size;
    this.#bytes += size;
  }

  /** Drops the channel's oldest `count` entries. */
  #drop(history: ChannelHistory, count: number): void {
    const dropped = history.entries.splice(0, count);
    history.droppedThrough = dropped.at(-1)!.offset;
    this.#grow(history, -dropped.reduce((sum, entry) => sum + entry.frame.length, 0));
  }

  #expire(history: ChannelHistory, now: number): void {
    const cutoff = now - history.ttlMs;
    const { entries } = history;
    let expired = 0;
    while (expired < entries.length && entries[expired].at <= cutoff) {
      expired++;
    }
    if (expired > 0) {
      this.#drop(history, expired);
    }
  }
}

function toEntry(entry: KeptEntry): HistoryEntry {
  return { offset: entry.offset, frame: entry.frame };
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(
      `Invalid MemoryHistoryStore option "${name}": expected a positive integer, got ${String(value)}`,
    );
  }
  return value;
}
