import { Injectable } from '@nestjs/common';
import type { Connection } from '../connection/connection.js';
import { type HistoryEntry, type HistoryPage, HistoryStore } from '../history/history-store.js';
import { PresenceTracker } from '../presence/presence-tracker.js';
import type { FrameId } from '../protocol/envelope.js';
import { type SubscribedPayload, subscribedFrame } from '../protocol/frames.js';
import type { ChannelBinding } from './channel-definition.js';
import { ChannelMembership } from './channel-membership.js';
import { NO_CHANNEL_OPTIONS, type ResolvedHistoryOptions } from './channel-options.js';

export interface JoinRequest {
  /** The `id` of the client's `subscribe`, answered by `subscribed`. */
  readonly replyTo?: FrameId;
  /** Recovery: the last offset the client has, and its epoch. */
  readonly since?: number;
  readonly epoch?: string;
  /** What the join check returned: an object is the member's info in a presence channel. */
  readonly joinResult?: unknown;
}

interface Start {
  readonly payload: SubscribedPayload;
  readonly replay: readonly HistoryEntry[];
  readonly position: number | undefined;
}

/**
 * Subscribes a connection and starts it off: `subscribed` (members, history position, recovery outcome), then the
 * replayed messages, then live ones. The connection joins first with its channel frames held, so nothing published
 * meanwhile is lost; held frames already replayed (same offset) are dropped, so nothing arrives twice.
 */
@Injectable()
export class ChannelJoiner {
  constructor(
    private readonly membership: ChannelMembership,
    private readonly presence: PresenceTracker,
    private readonly history: HistoryStore,
  ) {}

  /** Resolves to false when the connection was already subscribed or has gone. Rejects after undoing the join. */
  async join(connection: Connection, channel: string, binding: ChannelBinding, request: JoinRequest): Promise<boolean> {
    const options = binding.definition?.options ?? NO_CHANNEL_OPTIONS;
    const source = `${binding.definition?.classRef.name ?? 'A channel'}.canJoin`;
    const presence = options.presence;
    const member = presence ? this.presence.memberOf(connection, request.joinResult, source) : undefined;
    const staged = presence !== false || options.history !== undefined;
    if (!(await this.membership.join(connection, channel, binding, staged))) {
      return false;
    }
    if (!staged) {
      connection.sendEnvelope(subscribedFrame(channel, request.replyTo));
      return true;
    }
    let start: Start;
    try {
      if (presence && member !== undefined) {
        await this.presence.add(channel, connection, member, presence);
      }
      const snapshot = presence ? await this.presence.snapshot(channel, presence) : undefined;
      start = options.history ? await this.#historyStart(channel, options.history, request) : NO_HISTORY;
      if (snapshot !== undefined) {
        start = { ...start, payload: { ...snapshot, ...start.payload } };
      }
    } catch (error) {
      await this.membership.leave(connection, channel);
      throw error;
    }
    if (!connection.isSubscribed(channel)) {
      // Closed or unsubscribed meanwhile: its leave may have run before the store had it, so forget it again.
      if (presence && member !== undefined) {
        await this.presence.remove(channel, connection, presence);
      }
      return false;
    }
    connection.sendEnvelope(subscribedFrame(channel, request.replyTo, start.payload));
    for (const entry of start.replay) {
      connection.sendText(entry.frame, REPLAYED);
    }
    connection.release(channel, start.position);
    return true;
  }

  async #historyStart(channel: string, history: ResolvedHistoryOptions, request: JoinRequest): Promise<Start> {
    if (request.since !== undefined) {
      const page = await this.history.read(channel, { since: request.since, limit: history.size }, history);
      if (page.complete && page.epoch === request.epoch) {
        return started(page, page.entries, true);
      }
    }
    const page = await this.history.read(channel, { limit: Math.max(history.replayOnJoin, 1) }, history);
    const replay = history.replayOnJoin > 0 ? page.entries : [];
    return started(page, replay, request.since === undefined ? undefined : false);
  }
}

/** How replayed history frames are counted in `stats().framesOut`. */
const REPLAYED = 'history:replay';

const NO_HISTORY: Start = { payload: {}, replay: [], position: undefined };

function started(page: HistoryPage, replay: readonly HistoryEntry[], recovered: boolean | undefined): Start {
  const payload: SubscribedPayload =
    recovered === undefined
      ? { epoch: page.epoch, offset: page.offset }
      : { epoch: page.epoch, offset: page.offset, recovered };
  return { payload, replay, position: page.offset };
}
