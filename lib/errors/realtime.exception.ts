import { ErrorCode } from '../protocol/error-codes.js';

/**
 * An error a handler, guard or pipe can throw to answer the client with an `error` frame of a given `code`.
 * The message and `details` reach the client as they are: put nothing secret in them.
 *
 * @example
 * throw new RealtimeException(ErrorCode.FORBIDDEN, 'Only moderators can pin messages');
 */
export class RealtimeException extends Error {
  override readonly name: string = 'RealtimeException';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** `BAD_REQUEST`: the frame is malformed. */
export class BadRequestRealtimeException extends RealtimeException {
  override readonly name = 'BadRequestRealtimeException';
  constructor(message = 'Bad request', details?: unknown) {
    super(ErrorCode.BAD_REQUEST, message, details);
  }
}

/** `UNKNOWN_TYPE`: nothing handles this message type. */
export class UnknownTypeException extends RealtimeException {
  override readonly name = 'UnknownTypeException';
  constructor(message = 'Unknown message type', details?: unknown) {
    super(ErrorCode.UNKNOWN_TYPE, message, details);
  }
}

/** `UNAUTHORIZED`: the action needs an authenticated user. */
export class UnauthorizedRealtimeException extends RealtimeException {
  override readonly name = 'UnauthorizedRealtimeException';
  constructor(message = 'Authentication required', details?: unknown) {
    super(ErrorCode.UNAUTHORIZED, message, details);
  }
}

/** `FORBIDDEN`: the action is not allowed for this client. */
export class ForbiddenRealtimeException extends RealtimeException {
  override readonly name = 'ForbiddenRealtimeException';
  constructor(message = 'Forbidden', details?: unknown) {
    super(ErrorCode.FORBIDDEN, message, details);
  }
}

/** `NOT_SUBSCRIBED`: the action needs a subscription to the frame's channel. */
export class NotSubscribedException extends RealtimeException {
  override readonly name = 'NotSubscribedException';
  constructor(message = 'Not subscribed to this channel', details?: unknown) {
    super(ErrorCode.NOT_SUBSCRIBED, message, details);
  }
}

/** `VALIDATION_FAILED`: the payload is invalid; `details` says how. */
export class ValidationFailedException extends RealtimeException {
  override readonly name = 'ValidationFailedException';
  constructor(message = 'Validation failed', details?: unknown) {
    super(ErrorCode.VALIDATION_FAILED, message, details);
  }
}

/** `RATE_LIMITED`: too many frames; the client may retry after `retryAfterMs`. */
export class RateLimitedException extends RealtimeException {
  override readonly name = 'RateLimitedException';
  constructor(
    readonly retryAfterMs: number,
    message = 'Rate limit exceeded',
  ) {
    super(ErrorCode.RATE_LIMITED, message, { retryAfterMs });
  }
}

/** `PAYLOAD_TOO_LARGE`: the frame or payload exceeds a size limit. */
export class PayloadTooLargeRealtimeException extends RealtimeException {
  override readonly name = 'PayloadTooLargeRealtimeException';
  constructor(message = 'Payload too large', details?: unknown) {
    super(ErrorCode.PAYLOAD_TOO_LARGE, message, details);
  }
}

/** `INTERNAL`: an unexpected failure. Prefer letting unknown errors propagate: they are logged and hidden. */
export class InternalRealtimeException extends RealtimeException {
  override readonly name = 'InternalRealtimeException';
  constructor(message = 'Internal error', details?: unknown) {
    super(ErrorCode.INTERNAL, message, details);
  }
}
