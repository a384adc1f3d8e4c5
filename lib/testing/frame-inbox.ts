import type { RealtimeEnvelope } from '../protocol/envelope.js';
import { abbreviate } from './payload-matcher.js';
import { realClearTimeout, realSetTimeout } from './real-timers.js';

/** A frame a test client received, decoded (binary parts as `Uint8Array`): an envelope of the wire protocol. */
export type ReceivedFrame<T = unknown> = RealtimeEnvelope<T>;

interface Waiter {
  readonly match: (frame: ReceivedFrame) => boolean;
  readonly resolve: (frame: ReceivedFrame) => void;
}

/**
 * The frames a client received and has not taken yet. An expectation takes the first unread frame that matches,
 * waiting for it when it has not arrived, and fails after a timeout with a message listing what did arrive.
 */
export class FrameInbox {
  /** Every frame, in arrival order, taken or not. */
  readonly all: ReceivedFrame[] = [];
  readonly #unread: ReceivedFrame[] = [];
  readonly #waiters: Waiter[] = [];
  #ended: Error | undefined;

  push(frame: ReceivedFrame): void {
    this.all.push(frame);
    const index = this.#waiters.findIndex((waiter) => waiter.match(frame));
    if (index === -1) {
      this.#unread.push(frame);
      return;
    }
    this.#waiters.splice(index, 1)[0].resolve(frame);
  }

  /** No more frames will come: waiting expectations fail now, with `reason`. */
  end(reason: Error): void {
    this.#ended = reason;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.resolve(undefined as unknown as ReceivedFrame);
    }
  }

  /** The unread frames that match, without taking them. */
  unread(match: (frame: ReceivedFrame) => boolean = () => true): ReceivedFrame[] {
    return this.#unread.filter(match);
  }

  /** Takes the first unread frame that matches; waits `timeoutMs` for one, then fails naming `expected`. */
  async take(match: (frame: ReceivedFrame) => boolean, expected: string, timeoutMs: number): Promise<ReceivedFrame> {
    const index = this.#unread.findIndex(match);
    if (index !== -1) {
      return this.#unread.splice(index, 1)[0];
    }
    if (this.#ended !== undefined) {
      throw this.#failure(expected, `the connection closed (${this.#ended.message})`);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = await new Promise<ReceivedFrame | undefined>((resolve) => {
      const waiter: Waiter = { match, resolve };
      this.#waiters.push(waiter);
      timer = realSetTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        resolve(undefined);
      }, timeoutMs);
    });
    realClearTimeout(timer);
    if (frame === undefined) {
      const ended = this.#ended as Error | undefined;
      throw this.#failure(
        expected,
        ended === undefined ? `nothing like it within ${timeoutMs} ms` : `the connection closed (${ended.message})`,
      );
    }
    return frame;
  }

  #failure(expected: string, what: string): Error {
    const unread = this.#unread.map((frame) => `  ${describeFrame(frame)}`);
    const list = unread.length === 0 ? ' none' : `\n${unread.slice(-20).join('\n')}`;
    return new Error(`Expected ${expected}, but ${what}. Unread frames:${list}`);
  }
}

/** One frame in a failure message. */
export function describeFrame(frame: ReceivedFrame): string {
  const parts = [frame.type];
  if (frame.channel !== undefined) {
    parts.push(`channel=${frame.channel}`);
  }
  if (frame.event !== undefined) {
    parts.push(`event=${frame.event}`);
  }
  if (frame.replyTo !== undefined) {
    parts.push(`replyTo=${frame.replyTo}`);
  }
  if (frame.error !== undefined) {
    parts.push(`error=${frame.error.code}`);
  }
  if (frame.payload !== undefined) {
    parts.push(abbreviate(frame.payload, 120));
  }
  return parts.join(' ');
}
