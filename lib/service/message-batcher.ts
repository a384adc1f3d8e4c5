import type { RealtimeMessage } from './envelope-factory.js';

/** How `RealtimeService.publishBatched` collects a burst into one `batch` frame. */
export interface BatchOptions {
  /** How long messages are collected, from the first one. 1 to 60 000 ms. */
  readonly windowMs: number;
  /** `payload.name` of the batch frame, for the client to route it. Default: the first message's type. */
  readonly name?: string;
  /** `'latest'`: keep only the last message (live cursors, typing); default: keep all, in order. */
  readonly coalesce?: 'all' | 'latest';
}

/** A message in a batch: what was given, stamped when it was given. */
export interface BatchedMessage {
  readonly type: string;
  readonly payload?: unknown;
  readonly sender: string | null;
  readonly timestamp: number;
}

/** The payload of a `batch` frame. */
export interface BatchPayload {
  readonly name: string;
  readonly messages: readonly BatchedMessage[];
}

interface PendingBatch {
  readonly channel: string;
  readonly name: string;
  readonly coalesce: boolean;
  messages: BatchedMessage[];
  readonly timer: NodeJS.Timeout;
}

/** Past this many messages a batch is sent at once, so one hot key cannot grow memory during its window. */
export const MAX_BATCH_MESSAGES = 1000;

/**
 * Collects messages per (channel, key) for a window, then hands them to `send` as one batch. Timers are per
 * pending batch and cleared when it is sent or cancelled.
 */
export class MessageBatcher {
  readonly #pending = new Map<string, PendingBatch>();

  constructor(private readonly send: (channel: string, batch: BatchPayload) => void) {}

  add(channel: string, key: string, message: RealtimeMessage, options: BatchOptions): void {
    const id = batchId(channel, key);
    const entry: BatchedMessage = {
      type: message.type,
      payload: message.payload,
      sender: message.sender ?? null,
      timestamp: Date.now(),
    };
    let batch = this.#pending.get(id);
    if (batch === undefined) {
      batch = {
        channel,
        name: options.name ?? message.type,
        coalesce: options.coalesce === 'latest',
        messages: [],
        timer: setTimeout(() => this.#flush(id), options.windowMs),
      };
      this.#pending.set(id, batch);
    }
    if (batch.coalesce) {
      batch.messages = [entry];
    } else {
      batch.messages.push(entry);
      if (batch.messages.length >= MAX_BATCH_MESSAGES) {
        this.#flush(id);
      }
    }
  }

  /** Drops a pending batch; returns whether there was one. */
  cancel(channel: string, key: string): boolean {
    const id = batchId(channel, key);
    const batch = this.#pending.get(id);
    if (batch === undefined) {
      return false;
    }
    clearTimeout(batch.timer);
    this.#pending.delete(id);
    return true;
  }

  /** Sends every pending batch now (at shutdown, before connections close). */
  flushAll(): void {
    for (const id of [...this.#pending.keys()]) {
      this.#flush(id);
    }
  }

  get size(): number {
    return this.#pending.size;
  }

  #flush(id: string): void {
    const batch = this.#pending.get(id);
    if (batch === undefined) {
      return;
    }
    clearTimeout(batch.timer);
    this.#pending.delete(id);
    this.send(batch.channel, { name: batch.name, messages: batch.messages });
  }
}

function batchId(channel: string, key: string): string {
  return `${channel}\u0000${key}`;
}
