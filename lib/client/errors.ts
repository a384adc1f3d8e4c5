import type { ErrorCode } from '../protocol/error-codes.js';

/**
 * Why a request, a subscription or the connection failed: the server's error code (see the table in the package's docs/protocol.md), or
 * one of the client's own.
 */
export type RealtimeErrorCode =
  | ErrorCode
  /** No answer within the request's timeout. */
  | 'TIMEOUT'
  /**
   * The connection dropped with the request in flight, or it could not wait: not connected and not reconnecting,
   * the offline queue full or off, or reconnecting gave up after `reconnect.maxAttempts`.
   */
  | 'DISCONNECTED'
  /** `close()` was called. */
  | 'CLOSED'
  /** The server closed the connection and asked not to come back (1000, 1008, a 4403 refusal). */
  | 'CONNECTION_CLOSED'
  /** `getToken` threw; the client retries with backoff. */
  | 'TOKEN_FAILED';

/**
 * Why a request, a subscription or the connection failed. `code` is the server's error code (`FORBIDDEN`,
 * `VALIDATION_FAILED`, `RATE_LIMITED`, `UNAUTHORIZED` also for a refused handshake, ...) or one of the client's own
 * ({@link RealtimeErrorCode}).
 */
export class RealtimeError extends Error {
  override readonly name = 'RealtimeError';

  constructor(
    readonly code: RealtimeErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The error an `error` frame carries (its body may be missing in a malformed frame). */
export function errorOfFrame(frame: {
  readonly error?: { readonly code: string; readonly message: string; readonly details?: unknown };
}): RealtimeError {
  const { code = 'INTERNAL', message = 'error', details } = frame.error ?? {};
  return new RealtimeError(code as RealtimeErrorCode, message, details);
}
