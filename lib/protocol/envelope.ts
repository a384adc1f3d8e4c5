import type { ErrorCode } from './error-codes.js';

/** A frame's correlation id: a short string or a safe integer, echoed back as `replyTo`. */
export type FrameId = string | number;

/** `metadata`: a small map of strings, set by either side. */
export type EnvelopeMetadata = Readonly<Record<string, string>>;

/** The body of an `error` frame. Clients branch on `code`. */
export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: unknown;
}

/** A frame as the server accepts it from a client, after validation. Server-only fields are never read from clients. */
export interface InboundFrame {
  readonly type: string;
  readonly id?: FrameId;
  readonly channel?: string;
  readonly recipient?: string;
  readonly event?: string;
  /** `subscribe` and `history`: the last offset the client has of the channel. */
  readonly since?: number;
  /** `subscribe` with `since`: the epoch that offset belongs to. */
  readonly epoch?: string;
  /** `history`: how many messages at most. */
  readonly limit?: number;
  readonly payload?: unknown;
  readonly metadata?: EnvelopeMetadata;
}

/** A frame as the server sends it. */
export interface RealtimeEnvelope<TPayload = unknown> {
  readonly type: string;
  readonly id?: string;
  readonly channel?: string;
  readonly event?: string;
  readonly sender?: string | null;
  /** Direct messages: the user addressed. */
  readonly recipient?: string;
  readonly timestamp?: number;
  readonly offset?: number;
  readonly replyTo?: FrameId;
  readonly error?: ErrorBody;
  readonly payload?: TPayload;
  readonly metadata?: EnvelopeMetadata;
}
