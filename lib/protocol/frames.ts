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

/** Confirms a subscription, whether the client asked for it or the server made it. */
export function subscribedFrame(channel: string, replyTo?: FrameId): RealtimeEnvelope {
  return replyTo === undefined
    ? { type: ServerFrameType.SUBSCRIBED, channel }
    : { type: ServerFrameType.SUBSCRIBED, channel, replyTo };
}

export function pongFrame(replyTo?: FrameId): RealtimeEnvelope {
  return replyTo === undefined ? { type: ServerFrameType.PONG } : { type: ServerFrameType.PONG, replyTo };
}

export interface WelcomePayload {
  readonly connectionId: string;
  readonly userId: string | null;
  /** How often the server pings; a client that hears nothing for about twice this long should reconnect. */
  readonly heartbeatMs: number;
}

export function welcomeFrame(payload: WelcomePayload, timestamp: number): RealtimeEnvelope<WelcomePayload> {
  return { type: ServerFrameType.WELCOME, timestamp, payload };
}
