import { HttpException, HttpStatus } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { RateLimitedException, RealtimeException } from '../errors/realtime.exception.js';
import type { ErrorBody } from '../protocol/envelope.js';
import { ErrorCode, isErrorCode } from '../protocol/error-codes.js';

/** The error frame body for a thrown value; `expected` is false for errors that belong in the server log. */
export interface MappedException {
  readonly body: ErrorBody;
  readonly expected: boolean;
}

const INTERNAL: ErrorBody = { code: ErrorCode.INTERNAL, message: 'Internal error' };

/**
 * Maps what a handler, guard, pipe or interceptor threw to a stable protocol error. Known exceptions keep their
 * message; anything else becomes `INTERNAL` with no detail, so no stack or internal message reaches a client.
 */
export function mapException(exception: unknown): MappedException {
  if (exception instanceof RealtimeException) {
    return { body: body(exception.code, exception.message, exception.details), expected: true };
  }
  if (exception instanceof WsException) {
    return { body: fromWsException(exception), expected: true };
  }
  if (exception instanceof HttpException) {
    return fromHttpException(exception);
  }
  return { body: INTERNAL, expected: false };
}

function fromWsException(exception: WsException): ErrorBody {
  const error = exception.getError();
  if (typeof error === 'object' && error !== null) {
    const { code, details } = error as { code?: unknown; details?: unknown };
    if (isErrorCode(code)) {
      return body(code, exception.message, details);
    }
  }
  return body(ErrorCode.BAD_REQUEST, exception.message);
}

function fromHttpException(exception: HttpException): MappedException {
  const status: number = exception.getStatus();
  if (status >= 500) {
    return { body: INTERNAL, expected: false };
  }
  const response = exception.getResponse();
  switch (status) {
    case HttpStatus.BAD_REQUEST as number: {
      // ValidationPipe: `{ message: string[] }` with one line per failed constraint.
      const messages = readMessages(response);
      return {
        body: body(ErrorCode.VALIDATION_FAILED, 'Validation failed', messages ? { errors: messages } : undefined),
        expected: true,
      };
    }
    case HttpStatus.UNAUTHORIZED as number:
      return { body: body(ErrorCode.UNAUTHORIZED, exception.message), expected: true };
    case HttpStatus.FORBIDDEN as number:
      return { body: body(ErrorCode.FORBIDDEN, exception.message), expected: true };
    case HttpStatus.PAYLOAD_TOO_LARGE as number:
      return { body: body(ErrorCode.PAYLOAD_TOO_LARGE, exception.message), expected: true };
    case HttpStatus.TOO_MANY_REQUESTS as number:
      return { body: body(ErrorCode.RATE_LIMITED, exception.message), expected: true };
    default:
      return { body: body(ErrorCode.BAD_REQUEST, exception.message), expected: true };
  }
}

function readMessages(response: string | object): string[] | undefined {
  if (typeof response === 'object' && response !== null) {
    const { message } = response as { message?: unknown };
    if (Array.isArray(message) && message.every((item) => typeof item === 'string')) {
      return message;
    }
    if (typeof message === 'string') {
      return [message];
    }
  }
  return undefined;
}

function body(code: ErrorBody['code'], message: string, details?: unknown): ErrorBody {
  return details === undefined ? { code, message } : { code, message, details };
}

/** The HTTP statuses of the error codes that have one (handshakes and close codes speak HTTP). */
const STATUS_OF_CODE: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.BAD_REQUEST]: 400,
  [ErrorCode.UNAUTHORIZED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.RATE_LIMITED]: 429,
};

/** The error code of an HTTP status, where one fits. */
export function codeOfStatus(status: number): ErrorCode | undefined {
  for (const [code, of] of Object.entries(STATUS_OF_CODE)) {
    if (of === status) {
      return code as ErrorCode;
    }
  }
  return undefined;
}

/** How to close a connection because of an exception (a connect hook that threw). */
export interface CloseDecision {
  readonly closeCode: number;
  readonly reason: string;
  /** False for an unexpected error, which belongs in the log with its stack. */
  readonly expected: boolean;
}

/**
 * A 4xx `HttpException` closes with 4000 + its status and its message as the reason; a `RealtimeException` whose
 * code has a 4xx status likewise (`FORBIDDEN`: 4403); anything else with 1011 "Connect hook failed".
 */
export function closeForException(exception: unknown): CloseDecision {
  const status =
    exception instanceof HttpException
      ? exception.getStatus()
      : exception instanceof RealtimeException
        ? STATUS_OF_CODE[exception.code]
        : undefined;
  if (status !== undefined && status >= 400 && status < 500) {
    return { closeCode: 4000 + status, reason: closeReason((exception as Error).message), expected: true };
  }
  return { closeCode: 1011, reason: 'Connect hook failed', expected: false };
}

/** How to answer a handshake the authenticator refused by throwing. */
export interface HandshakeAnswer {
  readonly status: number;
  readonly body: object;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * An `HttpException` (or a `RealtimeException` whose code has a status) thrown by the authenticator: its status,
 * its response as the JSON body, and `Retry-After` (seconds) from a `retryAfter` field of the response or a
 * `RateLimitedException`'s `retryAfterMs`. Undefined for anything else (refused as 401).
 */
export function handshakeAnswerFor(exception: unknown): HandshakeAnswer | undefined {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status < 400 || status > 599) {
      return undefined;
    }
    const response = exception.getResponse();
    const body =
      typeof response === 'object' && response !== null ? response : { statusCode: status, message: response };
    const retryAfter = (body as { retryAfter?: unknown }).retryAfter;
    return { status, body, headers: typeof retryAfter === 'number' ? retryAfterHeader(retryAfter * 1000) : {} };
  }
  if (exception instanceof RealtimeException) {
    const status = STATUS_OF_CODE[exception.code];
    if (status === undefined) {
      return undefined;
    }
    const body = { statusCode: status, message: exception.message, code: exception.code };
    const headers = exception instanceof RateLimitedException ? retryAfterHeader(exception.retryAfterMs) : {};
    return { status, body, headers };
  }
  return undefined;
}

function retryAfterHeader(ms: number): Record<string, string> {
  return Number.isFinite(ms) && ms >= 0 ? { 'Retry-After': String(Math.ceil(ms / 1000)) } : {};
}

/** A close reason within the 123 bytes a close frame allows, cut on a character boundary. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= 123) {
    return text;
  }
  let cut = text.slice(0, 123);
  while (Buffer.byteLength(cut) > 120) {
    cut = cut.slice(0, -1);
  }
  return `${cut}...`;
}
