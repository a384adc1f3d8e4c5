/**
 * Why a request, a subscription or the connection failed. `code` is the server's error code (`FORBIDDEN`,
 * `VALIDATION_FAILED`, `RATE_LIMITED`, ...) or one of the client's own: `TIMEOUT` (no answer in time),
 * `DISCONNECTED` (the connection dropped, or was not up), `CLOSED` (`close()` was called), `UNAUTHORIZED` (the server
 * refused the handshake), `CONNECTION_CLOSED` (the server closed the connection and asked not to come back),
 * `TOKEN_FAILED` (`getToken` threw: the client retries with backoff).
 */
export class RealtimeError extends Error {
  override readonly name = 'RealtimeError';

  constructor(
    readonly code: string,
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
  return new RealtimeError(code, message, details);
}
