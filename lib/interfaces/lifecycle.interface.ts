import type { RealtimeFailure } from '../errors/realtime-failure.js';
import type { RealtimeConnection } from './realtime-connection.interface.js';

/**
 * Implemented by any provider: called after a connection is established and welcomed. A hook that throws closes the
 * connection (the hooks after it do not run): an `HttpException` with a 4xx status closes with 4000 + that status
 * (4403 for a `ForbiddenException`) and its message as the reason, a `RealtimeException` with `UNAUTHORIZED`,
 * `FORBIDDEN` or `RATE_LIMITED` with 4401, 4403 or 4429; anything else with 1011 "Connect hook failed" (logged).
 */
export interface OnRealtimeConnect {
  /** Called once a connection is open and welcomed (its handshake passed the authenticator and the caps). */
  onRealtimeConnect(client: RealtimeConnection): void | Promise<void>;
}

/** Why a connection ended. */
export interface DisconnectInfo {
  /** The WebSocket close code (1006 when the connection dropped without a close frame). */
  readonly code: number;
  readonly reason: string;
}

/** Implemented by any provider: called once a connection has closed, after it left its channels. */
export interface OnRealtimeDisconnect {
  /** Called once a connection has closed and left its channels. */
  onRealtimeDisconnect(client: RealtimeConnection, info: DisconnectInfo): void | Promise<void>;
}

/**
 * Implemented by any provider: receives every refusal and failure the module handles (refused handshakes, rate
 * limits, refused and failed frames, whispers, slow-consumer and heartbeat closes, connect hooks that threw, broker
 * failures), with its code, connection and cause: one place for error tracking and metrics. The class of the
 * failure tells its kind (`RealtimeAuthError`, `RealtimeRateLimitError`, `RealtimeConnectionError`,
 * `RealtimeWhisperError`, `RealtimeMessageError`, `RealtimeBrokerError`). It runs after the module answered; what it
 * throws is logged. Nothing is built for it when no provider implements it.
 */
export interface OnRealtimeError {
  /** Called with each failure the module handled by itself (see the failures table in docs/protocol.md). */
  onRealtimeError(failure: RealtimeFailure): void | Promise<void>;
}

/** What a heartbeat-timeout hook learns. */
export interface HeartbeatTimeoutInfo {
  /** How long the connection has been silent (no frame, no pong), in milliseconds. */
  readonly silentMs: number;
}

/**
 * Implemented by any provider: called when a connection has been silent past `heartbeatTimeoutMs`, before it is
 * closed with 4001. Returning `false` keeps it open for another `heartbeatTimeoutMs` (a client known to sleep, say);
 * anything else (or a throw, logged) lets the close go ahead.
 */
export interface OnRealtimeHeartbeatTimeout {
  /** Called when a connection has been silent too long: return false to keep it open, true (or nothing) to close it with 4001. */
  onRealtimeHeartbeatTimeout(
    client: RealtimeConnection,
    info: HeartbeatTimeoutInfo,
  ): boolean | void | Promise<boolean | void>;
}
