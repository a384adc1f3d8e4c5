import type { RealtimeConnection } from '../interfaces/realtime-connection.interface.js';

/**
 * Codes of refusals and failures that are not `error` frames (those carry an `ErrorCode`): handshakes refused by
 * the module itself, connections it closed, and background failures.
 */
export const FailureCode = {
  /** The handshake's `Origin` is not allowed (HTTP 403). */
  ORIGIN_REFUSED: 'ORIGIN_REFUSED',
  /** The node is at `maxConnections` (HTTP 503). */
  SERVER_FULL: 'SERVER_FULL',
  /** The node is shutting down (HTTP 503). */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** Authentication took longer than `handshakeTimeoutMs` (HTTP 408). */
  HANDSHAKE_TIMEOUT: 'HANDSHAKE_TIMEOUT',
  /** `maxConnectionsPerIp` or `maxConnectionsPerUser` reached (HTTP 429). */
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  /** The authenticator refused with an HTTP status that no `ErrorCode` names (a 402, a 451...). */
  HANDSHAKE_REFUSED: 'HANDSHAKE_REFUSED',
  /** An `onRealtimeConnect` hook threw: the connection was closed. */
  CONNECT_HOOK_FAILED: 'CONNECT_HOOK_FAILED',
  /** The connection did not read its messages fast enough: closed with 4000. */
  SLOW_CONSUMER: 'SLOW_CONSUMER',
  /** The connection was silent past `heartbeatTimeoutMs`: closed with 4001. */
  HEARTBEAT_TIMEOUT: 'HEARTBEAT_TIMEOUT',
  /** The connection's token expired without a refresh: closed with 4007. */
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  /** A broker or store operation the module runs in the background failed. */
  BROKER_FAILED: 'BROKER_FAILED',
} as const;

export type FailureCode = (typeof FailureCode)[keyof typeof FailureCode];

/** Which of the original designs' error kinds a failure is (plus `message` and `broker`). */
export type FailureKind = 'auth' | 'rate_limit' | 'connection' | 'whisper' | 'message' | 'broker';

/** Where a failure happened, as much as is known. */
export interface FailureContext {
  /** The connection, once there is one (never for a refused handshake). */
  readonly client?: RealtimeConnection;
  /** Refused handshakes: the HTTP status of the answer. */
  readonly status?: number;
  /** Closed connections: the WebSocket close code. */
  readonly closeCode?: number;
  /** The client's address (for handshakes, where there is no `client` yet). */
  readonly remoteAddress?: string;
  /** What was thrown, when something was. */
  readonly cause?: unknown;
}

/**
 * A refusal or failure, as `OnRealtimeError` hooks receive it: its `code` (an `ErrorCode` for what the client got as
 * an `error` frame, else a {@link FailureCode}), the connection, and the cause. Branch on the class
 * (`instanceof RealtimeRateLimitError`) or `kind`, then on `code`.
 */
export abstract class RealtimeFailure extends Error {
  abstract readonly kind: FailureKind;
  readonly client: RealtimeConnection | undefined;
  readonly status: number | undefined;
  readonly closeCode: number | undefined;
  readonly remoteAddress: string | undefined;

  constructor(
    readonly code: string,
    message: string,
    context: FailureContext = {},
  ) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.client = context.client;
    this.status = context.status;
    this.closeCode = context.closeCode;
    this.remoteAddress = context.remoteAddress ?? context.client?.remoteAddress;
  }
}

/** A handshake refused by authentication: the authenticator returned null, threw, or threw an `HttpException`. */
export class RealtimeAuthError extends RealtimeFailure {
  override readonly name = 'RealtimeAuthError';
  readonly kind = 'auth';
}

/** A rate limit: frames (`RATE_LIMITED`, a 1008 close after `closeAfter` refusals) or connections per IP or user. */
export class RealtimeRateLimitError extends RealtimeFailure {
  override readonly name = 'RealtimeRateLimitError';
  readonly kind = 'rate_limit';
}

/**
 * A connection refused or closed by the module: origin, caps, handshake timeout, shutdown, a connect hook that
 * threw, a slow consumer, a heartbeat timeout.
 */
export class RealtimeConnectionError extends RealtimeFailure {
  override readonly name = 'RealtimeConnectionError';
  readonly kind = 'connection';
}

/** A whisper refused (not subscribed, whispers off, blocked by `onWhisper`) or that could not be relayed. */
export class RealtimeWhisperError extends RealtimeFailure {
  override readonly name = 'RealtimeWhisperError';
  readonly kind = 'whisper';
}

/**
 * A frame refused or failed, answered with an `error` frame: malformed, unknown type, a guard's refusal, failed
 * validation, a handler that threw (`cause`), a refused subscription.
 */
export class RealtimeMessageError extends RealtimeFailure {
  override readonly name = 'RealtimeMessageError';
  readonly kind = 'message';
}

/** Background work on the broker or a store failed (a subscription, a presence announcement, a batch). */
export class RealtimeBrokerError extends RealtimeFailure {
  override readonly name = 'RealtimeBrokerError';
  readonly kind = 'broker';
}
