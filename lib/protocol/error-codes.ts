/**
 * Stable error codes carried by `error` frames (`error.code`). Clients branch on these, never on messages.
 * Listed once, with their meaning, in the "Error codes" table of docs/protocol.md.
 */
export const ErrorCode = {
  /** Malformed frame: not JSON, not an object, a missing or ill-typed field. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** No handler or control action for this `type`. */
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  /** The action needs an authenticated user. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** A guard, `canJoin` or the channel's rules refused the action. */
  FORBIDDEN: 'FORBIDDEN',
  /** The action needs a subscription to the frame's channel. */
  NOT_SUBSCRIBED: 'NOT_SUBSCRIBED',
  /** The payload failed validation (a `ValidationPipe`, for example); `details` says why. */
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  /** Too many frames; `details.retryAfterMs` says when to try again. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The frame or payload is larger than allowed. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** A direct message (`chat:private` with `directMessages`) to a user with no connection on any node. */
  RECIPIENT_OFFLINE: 'RECIPIENT_OFFLINE',
  /** An unexpected server error; the details are in the server log only. */
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const ERROR_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && ERROR_CODES.has(value);
}

/** WebSocket close codes the server uses. */
export const CloseCode = {
  NORMAL: 1000,
  /** The server is shutting down. */
  GOING_AWAY: 1001,
  /** A policy was violated (abuse, a server-side disconnect). */
  POLICY_VIOLATION: 1008,
  /** A frame exceeded the maximum payload size. */
  MESSAGE_TOO_BIG: 1009,
  /** An unexpected server error. */
  INTERNAL_ERROR: 1011,
  /** The server is overloaded; try again later. */
  TRY_AGAIN_LATER: 1013,
  /** The client did not read its messages fast enough. */
  SLOW_CONSUMER: 4000,
  /** The client did not answer heartbeats in time. */
  HEARTBEAT_TIMEOUT: 4001,
  /** The connection's token expired (its identity's `expiresAt`) and no fresh one came in a `refresh` frame. */
  TOKEN_EXPIRED: 4007,
  /**
   * With `closeUnauthorized`: the handshake was not authenticated (instead of HTTP 401). Refusals after the upgrade
   * close with 4000 + their HTTP status: these three are the usual ones.
   */
  UNAUTHORIZED: 4401,
  /** A connect hook (or, with `closeUnauthorized`, the authenticator) refused the connection as forbidden. */
  FORBIDDEN: 4403,
  /** A connect hook refused the connection as over a rate limit. */
  TOO_MANY_REQUESTS: 4429,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Whether a server may send this close code (RFC 6455 section 7.4: 1004-1006 and 1015 are reserved). */
export function isSendableCloseCode(code: unknown): code is number {
  return (
    typeof code === 'number' &&
    Number.isInteger(code) &&
    (code === 1000 ||
      (code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
      (code >= 3000 && code <= 4999))
  );
}
