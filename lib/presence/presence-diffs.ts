import type { ResolvedPresenceOptions } from '../channels/channel-options.js';
import type { PresenceDiffPayload } from '../protocol/frames.js';
import type { PresenceMember } from './presence-store.js';

/** What happened to one user in a channel since the last diff: the last event wins. */
interface Change {
  readonly left: boolean;
  readonly member: PresenceMember;
}

interface PendingChannel {
  readonly settings: ResolvedPresenceOptions;
  changes: Map<string, Change>;
  /** The flush to come (or the forgetting of a counted channel, when nothing changed since). */
  timer: NodeJS.Timeout | undefined;
  /** Whether `timer` is a flush (changes are waiting, or being sent). */
  flushing: boolean;
  /** Whether a flush is between reading the count and publishing. */
  sending: boolean;
  /** When the channel last went out as a count: the next count waits `countIntervalMs` after it. */
  countedAt: number;
}

/** Publishes a channel's diff; `count` reads the channel's member count when the diff goes out. */
export interface DiffSink {
  count(channel: string): Promise<number>;
  publish(channel: string, diff: PresenceDiffPayload): Promise<void>;
  failed(channel: string, error: unknown): void;
}

/**
 * Coalesces a node's joins and leaves per channel: the first change opens a window of `diffIntervalMs`, and what
 * changed in it goes out as one diff, each user once with its last change (a user who joined and left within it
 * is a leave; the receivers drop a leave of a user they do not know). Above `maxAnnounced` members the diff is the
 * count alone, at most once per `countIntervalMs`: a join storm of N users costs O(N) frames per window instead of a
 * frame per join to every member.
 */
export class PresenceDiffs {
  readonly #pending = new Map<string, PendingChannel>();

  constructor(
    private readonly sink: DiffSink,
    private readonly now: () => number = Date.now,
  ) {}

  change(channel: string, member: PresenceMember, left: boolean, settings: ResolvedPresenceOptions): void {
    let pending = this.#pending.get(channel);
    if (pending === undefined) {
      pending = {
        settings,
        changes: new Map(),
        timer: undefined,
        flushing: false,
        sending: false,
        countedAt: -Infinity,
      };
      this.#pending.set(channel, pending);
    }
    const previous = pending.changes.get(member.userId);
    if (left && previous !== undefined && !previous.left) {
      // Joined and left within one window: nobody needs to hear of it (a churn of short visits costs nothing).
      pending.changes.delete(member.userId);
      if (pending.changes.size === 0 && !pending.sending) {
        this.#settle(channel, pending);
      }
      return;
    }
    pending.changes.set(member.userId, { left, member });
    if (!pending.flushing) {
      this.#schedule(channel, pending);
    }
  }

  /** Sends the channel's pending diff now, without waiting for its window. */
  flushNow(channel: string): Promise<void> {
    return this.#flush(channel);
  }

  /** Sends every pending diff now (on shutdown, before the broker closes), and forgets every channel. */
  async flushAll(): Promise<void> {
    const channels = [...this.#pending.keys()];
    await Promise.all(channels.map((channel) => this.#flush(channel)));
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
    }
    this.#pending.clear();
  }

  #schedule(channel: string, pending: PendingChannel): void {
    clearTimeout(pending.timer);
    pending.flushing = true;
    const countDue = pending.countedAt + pending.settings.countIntervalMs - this.now();
    pending.timer = setTimeout(() => void this.#flush(channel), Math.max(pending.settings.diffIntervalMs, countDue));
    pending.timer.unref?.();
  }

  async #flush(channel: string): Promise<void> {
    const pending = this.#pending.get(channel);
    if (pending === undefined || pending.changes.size === 0) {
      return;
    }
    clearTimeout(pending.timer);
    const changes = pending.changes;
    pending.changes = new Map();
    pending.sending = true;
    try {
      const count = await this.sink.count(channel);
      let diff: PresenceDiffPayload;
      if (count > pending.settings.maxAnnounced) {
        pending.countedAt = this.now();
        diff = { count };
      } else {
        const joins: PresenceMember[] = [];
        const leaves: PresenceMember[] = [];
        for (const { left, member } of changes.values()) {
          (left ? leaves : joins).push(member);
        }
        diff = { joins, leaves, count };
      }
      await this.sink.publish(channel, diff);
    } catch (error) {
      this.sink.failed(channel, error);
    }
    pending.sending = false;
    if (this.#pending.get(channel) !== pending) {
      return; // flushAll() forgot it meanwhile
    }
    if (pending.changes.size > 0) {
      this.#schedule(channel, pending);
      return;
    }
    this.#settle(channel, pending);
  }

  /** Nothing left to send: forgets the channel, once its count's pacing no longer matters. */
  #settle(channel: string, pending: PendingChannel): void {
    clearTimeout(pending.timer);
    pending.timer = undefined;
    pending.flushing = false;
    const keepMs = pending.countedAt + pending.settings.countIntervalMs - this.now();
    if (keepMs <= 0) {
      this.#pending.delete(channel);
      return;
    }
    pending.timer = setTimeout(() => {
      if (!pending.flushing) {
        this.#pending.delete(channel);
      }
    }, keepMs);
    pending.timer.unref?.();
  }
}
