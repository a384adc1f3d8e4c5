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
  ttlMs: number | undefined;
}

export interface MemoryHistoryStoreOptions {
  /** How often channels whose history has fully expired are forgotten. Default 60 000 ms. */
  readonly sweepIntervalMs?: number;
  /** The clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The embedded history store: in memory, per process. Each channel's epoch is new whenever its history starts
 * afresh (a new process, or a channel forgotten after its messages all expired), so offsets from before never
 * pass for current ones. Memory is bounded by `size` messages per channel; a channel with `ttlMs` is forgotten once
 * its messages have expired and it has been idle that long.
 */
export class MemoryHistoryStore extends HistoryStore {
  readonly #channels = new Map<string, ChannelHistory>();
  readonly #storeId = randomBytes(4).toString('hex');
  readonly #now: () => number;
  readonly #sweepIntervalMs: number;
  #generation = 0;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: MemoryHistoryStoreOptions = {}) {
    super();
    this.#now = options.now ?? Date.now;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  }

  append(channel: string, frame: string, limits: HistoryLimits): Promise<HistoryEntry & HistoryPosition> {
    const now = this.#now();
    const history = this.#open(channel, limits, now);
    const offset = ++history.offset;
    const entry: KeptEntry = { offset, frame: withOffset(frame, offset), at: now };
    history.entries.push(entry);
    if (history.entries.length > limits.size) {
      history.droppedThrough = history.entries.splice(0, history.entries.length - limits.size).at(-1)!.offset;
    }
    return Promise.resolve({ offset, frame: entry.frame, epoch: history.epoch });
  }

  read(channel: string, query: HistoryQuery, limits: HistoryLimits): Promise<HistoryPage> {
    const history = this.#open(channel, limits, this.#now());
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

  close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#channels.clear();
    return Promise.resolve();
  }

  /** Forgets channels with `ttlMs` whose messages have all expired and that have been idle for `ttlMs`. */
  sweep(): void {
    const now = this.#now();
    for (const [channel, history] of this.#channels) {
      if (history.ttlMs !== undefined) {
        this.#expire(history, now);
        if (history.entries.length === 0 && now - history.touchedAt >= history.ttlMs) {
          this.#channels.delete(channel);
        }
      }
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
      };
      this.#channels.set(channel, history);
    }
    history.touchedAt = now;
    history.ttlMs = limits.ttlMs;
    this.#expire(history, now);
    if (limits.ttlMs !== undefined && this.#sweeper === undefined) {
      this.#sweeper = setInterval(() => this.sweep(), this.#sweepIntervalMs).unref();
    }
    return history;
  }

  #expire(history: ChannelHistory, now: number): void {
    if (history.ttlMs === undefined) {
      return;
    }
    const cutoff = now - history.ttlMs;
    const { entries } = history;
    let expired = 0;
    while (expired < entries.length && entries[expired].at <= cutoff) {
      expired++;
    }
    if (expired > 0) {
      history.droppedThrough = entries[expired - 1].offset;
      entries.splice(0, expired);
    }
  }
}

function toEntry(entry: KeptEntry): HistoryEntry {
  return { offset: entry.offset, frame: entry.frame };
}
