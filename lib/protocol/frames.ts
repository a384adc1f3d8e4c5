import type { ErrorBody, FrameId, RealtimeEnvelope } from './envelope.js';
import { ServerFrameType } from './message-types.js';

/** An `ack` answering the client frame `replyTo`; `payload` is omitted when undefined. */
export function ackFrame(replyTo: FrameId, payload: unknown): RealtimeEnvelope {
  return payload === undefined
    ? { type: ServerFrameType.ACK, replyTo }
    : { type: ServerFrameType.ACK, replyTo, payload };
}

/** An `error` frame, answering `replyTo` when the refused frame had a readable id. */
export function errorFrame(error: ErrorBody, replyTo?: FrameId): RealtimeEnvelope {
  return replyTo === undefined
    ? { type: ServerFrameType.ERROR, error }
    : { type: ServerFrameType.ERROR, replyTo, error };
}

/** A member of a presence channel, as frames carry it. */
export interface MemberPayload {
  readonly userId: string;
  readonly info: Readonly<Record<string, unknown>>;
}

/** What `subscribed` says about a channel with presence or history. */
export interface SubscribedPayload {
  /**
   * Presence channels: the members, the subscriber's own user included; left out above the channel's
   * `maxAnnounced` (page through them with `presence` frames).
   */
  readonly members?: readonly MemberPayload[];
  /** Presence channels: how many members there are. */
  readonly memberCount?: number;
  /** History channels: the epoch of the offsets, and the last offset given out when the subscription started. */
  readonly epoch?: string;
  readonly offset?: number;
  /**
   * After `subscribe` with `since`: true when every message after `since` follows (replayed, then live); false when
   * they could not all be recovered (the epoch changed, or they are no longer kept): reload, then go on from `offset`.
   */
  readonly recovered?: boolean;
}

/** Confirms a subscription, whether the client asked for it or the server made it. */
export function subscribedFrame(channel: string, replyTo?: FrameId, payload?: SubscribedPayload): RealtimeEnvelope {
  const frame: { type: string; channel: string; replyTo?: FrameId; payload?: SubscribedPayload } = {
    type: ServerFrameType.SUBSCRIBED,
    channel,
  };
  if (replyTo !== undefined) {
    frame.replyTo = replyTo;
  }
  if (payload !== undefined) {
    frame.payload = payload;
  }
  return frame;
}

/**
 * `system:presence_diff`: who joined and left a presence channel since the last diff (`joins`, `leaves`: users whose
 * first connection joined or last one left; each user in one list at most), and how many members it has now. Above
 * the channel's `maxAnnounced`, `{ count }` only.
 */
export interface PresenceDiffPayload {
  readonly joins?: readonly MemberPayload[];
  readonly leaves?: readonly MemberPayload[];
  readonly count: number;
}

export function presenceDiffFrame(
  channel: string,
  diff: PresenceDiffPayload,
  timestamp: number,
): RealtimeEnvelope<PresenceDiffPayload> {
  return { type: ServerFrameType.PRESENCE_DIFF, channel, timestamp, payload: diff };
}

/** `system:presence` without `replyTo`: a member's info changed (a status, say); once per user, to the channel. */
export function presenceUpdateFrame(
  channel: string,
  member: MemberPayload,
  timestamp: number,
): RealtimeEnvelope<MemberPayload> {
  return { type: ServerFrameType.PRESENCE, channel, timestamp, payload: { userId: member.userId, info: member.info } };
}

/** `system:presence`: the answer to a `presence` frame. */
export interface PresencePage {
  readonly members: readonly MemberPayload[];
  /** How many members the channel has. */
  readonly count: number;
  /** The `since` of the next page, when there are more members. */
  readonly next?: number;
}

export function presenceFrame(channel: string, page: PresencePage, replyTo?: FrameId): RealtimeEnvelope<PresencePage> {
  return replyTo === undefined
    ? { type: ServerFrameType.PRESENCE, channel, payload: page }
    : { type: ServerFrameType.PRESENCE, channel, replyTo, payload: page };
}

/**
 * `history`: the answer to a `history` frame, `payload: { epoch, offset, messages }`. The kept frames are spliced in
 * as they are, never parsed and re-encoded.
 */
export function historyFrameText(
  channel: string,
  position: { readonly epoch: string; readonly offset: number },
  frames: readonly string[],
  replyTo?: FrameId,
): string {
  const head = JSON.stringify(
    replyTo === undefined
      ? { type: ServerFrameType.HISTORY, channel }
      : { type: ServerFrameType.HISTORY, channel, replyTo },
  );
  const payload = `{"epoch":${JSON.stringify(position.epoch)},"offset":${position.offset},"messages":[${frames.join(',')}]}`;
  return `${head.slice(0, -1)},"payload":${payload}}`;
}

/** `history` as an envelope, for pages holding bytes (see `historyFrameText` for the usual, spliced one). */
export function historyFrame(
  channel: string,
  position: { readonly epoch: string; readonly offset: number },
  messages: readonly unknown[],
  replyTo?: FrameId,
): RealtimeEnvelope {
  const payload = { epoch: position.epoch, offset: position.offset, messages };
  return replyTo === undefined
    ? { type: ServerFrameType.HISTORY, channel, payload }
    : { type: ServerFrameType.HISTORY, channel, replyTo, payload };
}

/** A whisper as the channel's other connections get it. */
export function whisperFrame(
  channel: string,
  event: string,
  sender: string | null,
  payload: unknown,
): RealtimeEnvelope {
  return { type: ServerFrameType.WHISPER, channel, event, sender, payload };
}

/** What `pong` carries: the server's clock and the round trip it measured with its last heartbeat ping. */
export interface PongPayload {
  readonly timestamp: number;
  /** Milliseconds; null before the connection answered its first heartbeat ping. */
  readonly rttMs: number | null;
}

export function pongFrame(replyTo: FrameId | undefined, payload: PongPayload): RealtimeEnvelope<PongPayload> {
  return replyTo === undefined
    ? { type: ServerFrameType.PONG, payload }
    : { type: ServerFrameType.PONG, replyTo, payload };
}

/** What `system:welcome` tells a client that connected: its connection id, its user, the heartbeat interval. */
export interface WelcomePayload {
  readonly connectionId: string;
  readonly userId: string | null;
  /** How often the server pings; a client that hears nothing for about twice this long should reconnect. */
  readonly heartbeatMs: number;
}

export function welcomeFrame(payload: WelcomePayload, timestamp: number): RealtimeEnvelope<WelcomePayload> {
  return { type: ServerFrameType.WELCOME, timestamp, payload };
}
