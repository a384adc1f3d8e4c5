import { Emitter } from './emitter.js';
import { RealtimeError } from './errors.js';
import type { MessageMap, PresenceMember, ServerMessage, SubscribedInfo } from './types.js';

/** What a subscription needs from its client. @internal */
export interface SubscriptionHost {
  readonly connected: boolean;
  /** Sends a frame with an id; resolves to the answer (`error` frames reject with RealtimeError). */
  exchange(frame: Record<string, unknown>): Promise<ServerMessage>;
  send(frame: Record<string, unknown>): void;
  forget(channel: string, subscription: object): void;
}

/** A subscription's `history()` answer: the channel's epoch and last offset, and the kept messages after `since`. */
export interface HistoryPage<M extends object = MessageMap> {
  readonly epoch: string;
  readonly offset: number;
  readonly messages: ServerMessage<M[keyof M]>[];
}

type SubscriptionEvents = {
  subscribed: [info: SubscribedInfo];
  join: [member: PresenceMember];
  leave: [member: PresenceMember];
  /** A member's info changed while it stayed (a status: online, away, busy...). */
  update: [member: PresenceMember];
  /** The member count changed (every presence diff carries it; above the channel's `maxAnnounced`, only it). */
  count: [count: number];
  whisper: [payload: unknown, whisper: { event: string; sender: string | null | undefined }];
  error: [error: RealtimeError];
  message: [message: ServerMessage];
};

const PRESENCE_DIFF = 'system:presence_diff';
const PRESENCE_UPDATE = 'system:presence';

/**
 * A channel the client is in: its messages (`on(type, handler)`), whispers, presence members and events, history.
 * It survives reconnects: the client resubscribes it with its last offset and epoch, so missed messages arrive in
 * order, once; the `subscribed` event says `recovered: false` when they could not all be replayed.
 */
export class Subscription<M extends object = MessageMap> {
  /** Resolves once the server confirmed the subscription; rejects (with the server's code) when it refused it. */
  readonly ready: Promise<void>;
  readonly #events = new Emitter<SubscriptionEvents>();
  readonly #byType = new Emitter<Record<string, [payload: unknown, message: ServerMessage]>>();
  #members = new Map<string, PresenceMember>();
  #memberCount: number | undefined;
  /** Above the channel's `maxAnnounced`: the server sends counts only, and no member list is kept. */
  #countsOnly = false;
  #settle: { resolve: () => void; reject: (error: RealtimeError) => void } | undefined;
  #active = false;
  #ended = false;
  /** Confirmed at least once: later confirmations are resubscriptions. */
  #confirmed = false;
  #epoch: string | undefined;
  /** The last offset this subscription handed to the app; older or repeated ones are dropped. */
  #lastDelivered: number | undefined;
  /** Where the history stood when the server confirmed the subscription. */
  #position: number | undefined;

  /** @internal */
  constructor(
    readonly channel: string,
    private readonly host: SubscriptionHost,
  ) {
    this.ready = new Promise((resolve, reject) => (this.#settle = { resolve, reject }));
    this.ready.catch(() => undefined); // a refusal is also an `error` event: never an unhandled rejection
  }

  /** Whether the server confirmed it and it is not unsubscribed. */
  get active(): boolean {
    return this.#active;
  }

  /**
   * The channel's members (presence channels): one per user, kept current by join and leave events. Up to the
   * channel's `maxAnnounced` (100 by default) only: above it the server sends counts, and this list stays empty
   * (page through the members with {@link fetchMembers}).
   */
  get members(): PresenceMember[] {
    return [...this.#members.values()];
  }

  /** How many members the channel has (presence channels), as of the last `subscribed` or diff. */
  get memberCount(): number | undefined {
    return this.#memberCount;
  }

  /** A page of the channel's members: at most `limit` (100 by default, up to 1000) from position `since`. */
  async fetchMembers(
    query: { since?: number; limit?: number } = {},
  ): Promise<{ members: PresenceMember[]; count: number; next?: number }> {
    const answer = await this.host.exchange({ type: 'presence', channel: this.channel, ...query });
    return answer.payload as { members: PresenceMember[]; count: number; next?: number };
  }

  /**
   * `subscribed` (after every (re)subscribe, with `recovered`), `join`, `leave`, `update` (a member's info changed),
   * `count` (the member count changed), `whisper`, `error`, `message`.
   */
  on<K extends keyof SubscriptionEvents>(event: K, handler: (...args: SubscriptionEvents[K]) => void): () => void;
  /** Messages of a type in this channel: `(payload, message)`, the message with `sender`, `id`, `offset`. */
  on<K extends keyof M & string>(type: K, handler: (payload: M[K], message: ServerMessage<M[K]>) => void): () => void;
  on(type: string, handler: (...args: never[]) => void): () => void {
    if (isEvent(type)) {
      return this.#events.on(type, handler as never);
    }
    return this.#byType.on(type, handler as (payload: unknown, message: ServerMessage) => void);
  }

  /** Sends a whisper to the channel's other members (the channel must allow whispers). Not acknowledged. */
  whisper(event: string, payload?: unknown): void {
    if (this.#active && this.host.connected) {
      this.host.send({ type: 'whisper', channel: this.channel, event, payload });
    }
  }

  /** The channel's kept messages: the newest `limit`, or those after `since`. */
  async history(query: { since?: number; limit?: number } = {}): Promise<HistoryPage<M>> {
    const answer = await this.host.exchange({ type: 'history', channel: this.channel, ...query });
    return answer.payload as HistoryPage<M>;
  }

  /** Leaves the channel; nothing more arrives for it, and it is not resubscribed after a reconnect. */
  async unsubscribe(): Promise<void> {
    if (this.#ended) {
      return;
    }
    this.#end(new RealtimeError('CLOSED', `Unsubscribed from "${this.channel}"`));
    if (this.host.connected) {
      await this.host.exchange({ type: 'unsubscribe', channel: this.channel }).catch(() => undefined);
    }
  }

  /** The subscribe frame for now: with `since` and `epoch` once the channel's history position is known. */
  #subscribeFrame(): Record<string, unknown> {
    const since = Math.max(this.#lastDelivered ?? -1, this.#position ?? -1);
    return this.#epoch === undefined || since < 0
      ? { type: 'subscribe', channel: this.channel }
      : { type: 'subscribe', channel: this.channel, since, epoch: this.#epoch };
  }

  /** Sends the subscribe frame; called on every connect. @internal */
  async resubscribe(): Promise<void> {
    if (this.#ended) {
      return;
    }
    try {
      // The `subscribed` answer itself is handled in receive(), synchronously, before the replayed frames after it.
      await this.host.exchange(this.#subscribeFrame());
    } catch (error) {
      const failure =
        error instanceof RealtimeError ? error : new RealtimeError('INTERNAL', `Subscribing failed: ${String(error)}`);
      if (failure.code === 'DISCONNECTED' || failure.code === 'CLOSED') {
        return; // the next connect tries again, or close() ended it
      }
      this.#events.emit('error', failure);
      this.#end(failure);
    }
  }

  /** The connection dropped: inactive until resubscribed. @internal */
  suspend(): void {
    this.#active = false;
  }

  /** `close()` on the client. @internal */
  end(error: RealtimeError): void {
    this.#end(error);
  }

  /** A frame for this channel. @internal */
  receive(message: ServerMessage): void {
    if (message.type === 'subscribed') {
      this.#subscribed(message.payload as SubscribedPayload | undefined);
      return;
    }
    if (!this.#active) {
      return;
    }
    switch (message.type) {
      case PRESENCE_DIFF:
        this.#diff(message.payload as PresenceDiff | undefined);
        return;
      case PRESENCE_UPDATE:
        this.#presence(message);
        return;
      case 'whisper':
        this.#events.emit('whisper', message.payload, { event: message.event ?? '', sender: message.sender });
        return;
    }
    if (message.offset !== undefined) {
      if (this.#lastDelivered !== undefined && message.offset <= this.#lastDelivered) {
        return;
      }
      this.#lastDelivered = message.offset;
    }
    this.#events.emit('message', message);
    this.#byType.emit(message.type, message.payload, message);
  }

  #subscribed(payload: SubscribedPayload | undefined): void {
    if (this.#ended) {
      return;
    }
    const again = this.#confirmed;
    this.#confirmed = true;
    // Without history there is nothing to recover: every resubscribe is whole.
    const recovered = payload?.recovered ?? (!again || payload?.epoch === undefined);
    if (payload?.epoch !== undefined && payload.epoch !== this.#epoch) {
      this.#lastDelivered = undefined; // offsets of another epoch mean nothing
    }
    if (again && !recovered) {
      this.#lastDelivered = undefined; // the replay that follows starts over
    }
    this.#epoch = payload?.epoch ?? this.#epoch;
    this.#position = payload?.offset;
    if (payload?.memberCount !== undefined || payload?.members !== undefined) {
      this.#members = new Map((payload.members ?? []).map((member) => [member.userId, member]));
      this.#memberCount = payload.memberCount ?? payload.members?.length;
      this.#countsOnly = payload.members === undefined;
    }
    this.#active = true;
    this.#settle?.resolve();
    this.#settle = undefined;
    this.#events.emit('subscribed', { recovered, epoch: payload?.epoch, offset: payload?.offset });
  }

  /** A member's info changed (`system:presence` without `replyTo`). */
  #presence(message: ServerMessage): void {
    const member = message.payload as PresenceMember | undefined;
    if (member !== undefined && typeof member.userId === 'string' && !this.#countsOnly) {
      this.#members.set(member.userId, member);
      this.#events.emit('update', member);
    }
  }

  /**
   * Joins and leaves since the last diff. A diff may name what `subscribed` already showed (the joiner itself, say):
   * a join of a known member or a leave of an unknown one changes nothing and raises no event.
   */
  #diff(diff: PresenceDiff | undefined): void {
    if (diff === undefined) {
      return;
    }
    for (const member of diff.leaves ?? []) {
      if (this.#members.delete(member.userId)) {
        this.#events.emit('leave', member);
      }
    }
    for (const member of diff.joins ?? []) {
      const known = this.#members.has(member.userId);
      this.#members.set(member.userId, member);
      if (!known) {
        this.#events.emit('join', member);
      }
    }
    this.#countsOnly = diff.joins === undefined;
    if (this.#countsOnly) {
      this.#members.clear(); // a list would go stale
    }
    if (typeof diff.count === 'number') {
      if (diff.count !== this.#memberCount) {
        this.#memberCount = diff.count;
        this.#events.emit('count', diff.count);
      }
    }
  }

  #end(error: RealtimeError): void {
    this.#ended = true;
    this.#active = false;
    this.#settle?.reject(error);
    this.#settle = undefined;
    this.host.forget(this.channel, this);
  }
}

interface PresenceDiff {
  readonly joins?: PresenceMember[];
  readonly leaves?: PresenceMember[];
  readonly count?: number;
}

interface SubscribedPayload {
  readonly members?: PresenceMember[];
  readonly memberCount?: number;
  readonly epoch?: string;
  readonly offset?: number;
  readonly recovered?: boolean;
}

const EVENTS = new Set(['subscribed', 'join', 'leave', 'update', 'count', 'whisper', 'error', 'message']);

function isEvent(type: string): type is keyof SubscriptionEvents {
  return EVENTS.has(type);
}
