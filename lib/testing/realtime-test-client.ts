import { WebSocket } from 'ws';
import { decodeServerFrame, encodeClientFrame } from '../client/binary-frames.js';
import type { MemberPayload, PresenceDiffPayload, PresencePage, SubscribedPayload } from '../protocol/frames.js';
import { FrameInbox, type ReceivedFrame } from './frame-inbox.js';
import { type PayloadMatcher, describeMatcher, matchesPayload } from './payload-matcher.js';
import { RealtimeTestError } from './realtime-test-error.js';
import { realClearTimeout, realSetTimeout } from './real-timers.js';

/** Where a message goes: a channel (the `@Channel` handlers' routes), a user (direct messages), and its metadata. */
export interface SendOptions {
  readonly channel?: string;
  readonly recipient?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** How long an expectation waits; each call may override it. */
export interface WaitOptions {
  readonly timeoutMs?: number;
}

/** `history` answers: the channel's epoch, its last offset, and the kept messages after `since`. */
export interface HistoryPage {
  readonly epoch: string;
  readonly offset: number;
  readonly messages: readonly ReceivedFrame[];
}

/** How the connection ended: its close code and reason. */
export interface CloseEvent {
  readonly code: number;
  readonly reason: string;
}

let sequence = 0;

/**
 * A connected test client, on either transport: requests resolve to their answer or throw a
 * {@link RealtimeTestError} with the server's code; expectations take the first unread frame that matches, waiting
 * up to the kit's timeout, and fail with a message listing what did arrive.
 */
export class RealtimeTestClient {
  /** Every frame received, in order (expectations take from the unread ones). */
  readonly received: readonly ReceivedFrame[];
  /** Resolves when the connection closes, with the close code and reason. */
  readonly closed: Promise<CloseEvent>;
  readonly #inbox: FrameInbox;
  readonly #socket: WebSocket;
  readonly #timeoutMs: number;
  #welcome: { connectionId: string; userId: string | null } | undefined;

  /** @internal the kit connects clients: {@link RealtimeTesting.connect}. */
  constructor(socket: WebSocket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    this.#inbox = new FrameInbox();
    this.received = this.#inbox.all;
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      this.#inbox.push(decodeServerFrame(isBinary ? data : data.toString()) as ReceivedFrame);
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => {
        const event = { code, reason: reason.toString() };
        this.#inbox.end(new Error(`code ${event.code}${event.reason ? `, "${event.reason}"` : ''}`));
        resolve(event);
      });
    });
    // A client the server cuts is closed, not an unhandled error.
    socket.on('error', () => undefined);
  }

  /** @internal resolves once the server's `system:welcome` arrived. */
  async welcomed(): Promise<void> {
    const welcome = await this.#inbox.take(
      (frame) => frame.type === 'system:welcome',
      'system:welcome',
      this.#timeoutMs,
    );
    this.#welcome = welcome.payload as { connectionId: string; userId: string | null };
  }

  /** The connection's id, as the server knows it (`RealtimeService.sendToConnection` takes it). */
  get connectionId(): string {
    return this.#welcome!.connectionId;
  }

  /** The user the server took this connection for; null when anonymous. */
  get userId(): string | null {
    return this.#welcome!.userId;
  }

  /** Subscribes; resolves to the `subscribed` payload (members, count, epoch, offset, recovered) or throws the refusal. */
  async subscribe(
    channel: string,
    options: { readonly since?: number; readonly epoch?: string } = {},
  ): Promise<SubscribedPayload> {
    const answer = await this.#call({ type: 'subscribe', channel, ...options }, `subscribed to ${channel}`);
    return answer.payload ?? {};
  }

  /** Unsubscribes; resolves on the server's ack, or throws its refusal. */
  async unsubscribe(channel: string): Promise<void> {
    await this.#call({ type: 'unsubscribe', channel }, `the ack of unsubscribe from ${channel}`);
  }

  /** Sends a message and resolves to its ack's payload (the handler's return value), or throws the error frame's code. */
  async request<T = unknown>(type: string, payload?: unknown, options: SendOptions = {}): Promise<T> {
    const answer = await this.#call({ type, ...options, payload }, `the ack of ${type}`);
    return answer.payload as T;
  }

  /** Sends a message without waiting for anything (no id: the server sends no ack, errors come without `replyTo`). */
  send(type: string, payload?: unknown, options: SendOptions = {}): void {
    this.#send({ type, ...options, payload });
  }

  /**
   * Sends a frame exactly as given (an object is encoded as JSON, a string or bytes go out as they are): for tests of
   * what a hostile or broken client sends. Answers arrive as frames: take them with `expectMessage('error')`.
   */
  sendRaw(frame: object | string | Uint8Array): void {
    this.#socket.send(typeof frame === 'string' || frame instanceof Uint8Array ? frame : JSON.stringify(frame));
  }

  /** Whispers to the channel's other connections; resolves once the server relayed it, or throws its refusal. */
  async whisper(channel: string, event: string, payload?: unknown): Promise<void> {
    await this.#call({ type: 'whisper', channel, event, payload }, `the ack of whisper ${event} on ${channel}`);
  }

  /** A page of a presence channel's members (`since`: the `next` of the previous page). */
  async presence(
    channel: string,
    options: { readonly since?: number; readonly limit?: number } = {},
  ): Promise<PresencePage> {
    const answer = await this.#call({ type: 'presence', channel, ...options }, `the members of ${channel}`);
    return answer.payload as PresencePage;
  }

  /** The kept messages of a history channel after `since` (all kept ones without it). */
  async history(
    channel: string,
    options: { readonly since?: number; readonly limit?: number } = {},
  ): Promise<HistoryPage> {
    const answer = await this.#call({ type: 'history', channel, ...options }, `the history of ${channel}`);
    return answer.payload as HistoryPage;
  }

  /** Sends a fresh token in band; resolves to the new expiry (ms since the epoch; undefined: none). */
  async refresh(token: string): Promise<{ expiresAt?: number }> {
    const answer = await this.#call({ type: 'refresh', payload: { token } }, 'the ack of refresh');
    return answer.payload as { expiresAt?: number };
  }

  /**
   * Takes the first unread frame of `type` (on `channel`, when given) whose payload satisfies `matcher`, waiting for
   * it; fails with the unread frames listed.
   */
  async expectMessage<T = unknown>(
    type: string,
    matcher?: PayloadMatcher<T>,
    options: WaitOptions & { readonly channel?: string } = {},
  ): Promise<ReceivedFrame<T>> {
    const { channel } = options;
    const where = channel === undefined ? '' : ` on ${channel}`;
    return (await this.#inbox.take(
      (frame) =>
        frame.type === type &&
        (channel === undefined || frame.channel === channel) &&
        matchesPayload(frame.payload, matcher),
      `a ${type} message${where}${describeMatcher(matcher)}`,
      options.timeoutMs ?? this.#timeoutMs,
    )) as ReceivedFrame<T>;
  }

  /** Takes the first unread whisper of `event` on `channel` whose payload satisfies `matcher`. */
  async expectWhisper<T = unknown>(
    channel: string,
    event: string,
    matcher?: PayloadMatcher<T>,
    options: WaitOptions = {},
  ): Promise<ReceivedFrame<T>> {
    return (await this.#inbox.take(
      (frame) =>
        frame.type === 'whisper' &&
        frame.channel === channel &&
        frame.event === event &&
        matchesPayload(frame.payload, matcher),
      `a whisper ${event} on ${channel}${describeMatcher(matcher)}`,
      options.timeoutMs ?? this.#timeoutMs,
    )) as ReceivedFrame<T>;
  }

  /**
   * Waits until the presence diffs of `channel` have announced every user of `joins` joining and of `leaves` leaving
   * (over one or several `system:presence_diff` frames); resolves to the diffs taken.
   */
  async expectPresence(
    channel: string,
    expected: { readonly joins?: readonly string[]; readonly leaves?: readonly string[] },
    options: WaitOptions = {},
  ): Promise<PresenceDiffPayload[]> {
    const joins = new Set(expected.joins);
    const leaves = new Set(expected.leaves);
    const taken: PresenceDiffPayload[] = [];
    const announces = (members: readonly MemberPayload[] | undefined, wanted: Set<string>) =>
      (members ?? []).some((member) => wanted.has(member.userId));
    while (joins.size > 0 || leaves.size > 0) {
      const waiting = [...[...joins].map((user) => `${user} joining`), ...[...leaves].map((user) => `${user} leaving`)];
      const frame = await this.#inbox.take(
        (candidate) => {
          const diff = candidate.payload as PresenceDiffPayload | undefined;
          return (
            candidate.type === 'system:presence_diff' &&
            candidate.channel === channel &&
            (announces(diff?.joins, joins) || announces(diff?.leaves, leaves))
          );
        },
        `presence diffs on ${channel} announcing ${waiting.join(', ')}`,
        options.timeoutMs ?? this.#timeoutMs,
      );
      const diff = frame.payload as PresenceDiffPayload;
      diff.joins?.forEach((member) => joins.delete(member.userId));
      diff.leaves?.forEach((member) => leaves.delete(member.userId));
      taken.push(diff);
    }
    return taken;
  }

  /**
   * Asserts that no unread frame of `type` (any type without it; on `channel` when given) arrived. It first
   * round-trips a ping: the server writes to a connection in order, so whatever it sent before answering is here by
   * then. No waiting on a clock.
   */
  async expectNoMessage(type?: string, options: { readonly channel?: string } = {}): Promise<void> {
    await this.#call({ type: 'ping' }, 'pong');
    const { channel } = options;
    const found = this.#inbox.unread(
      (frame) => (type === undefined || frame.type === type) && (channel === undefined || frame.channel === channel),
    );
    if (found.length > 0) {
      const what = `${type ?? 'any'} message${channel === undefined ? '' : ` on ${channel}`}`;
      throw new Error(`Expected no ${what}, but received: ${found.map((frame) => JSON.stringify(frame)).join(', ')}`);
    }
  }

  /** Waits for the server to close the connection; fails if it closes with another code than `code`. */
  async expectClosed(code?: number, options: WaitOptions = {}): Promise<CloseEvent> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = realSetTimeout(
        () => reject(new Error(`Expected the connection to close within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const event = await Promise.race([this.closed, timeout]);
      if (code !== undefined && event.code !== code) {
        throw new Error(`Expected close code ${code}, got ${event.code} ("${event.reason}")`);
      }
      return event;
    } finally {
      realClearTimeout(timer);
    }
  }

  /** Closes the connection (1000) and waits until it is closed. */
  async close(): Promise<void> {
    if (this.#socket.readyState !== WebSocket.CLOSED) {
      this.#socket.close(1000);
    }
    await this.closed;
  }

  /** Cuts the connection without a close handshake (a client that vanished). */
  terminate(): void {
    this.#socket.terminate();
  }

  #send(frame: Record<string, unknown>): void {
    this.#socket.send(encodeClientFrame(frame));
  }

  async #call(frame: Record<string, unknown>, expected: string): Promise<ReceivedFrame> {
    const id = `t${++sequence}`;
    this.#send({ ...frame, id });
    const answer = await this.#inbox.take((candidate) => candidate.replyTo === id, expected, this.#timeoutMs);
    if (answer.type === 'error') {
      const { code = 'INTERNAL', message = 'error', details } = answer.error ?? {};
      throw new RealtimeTestError(code, message, details);
    }
    return answer;
  }
}
