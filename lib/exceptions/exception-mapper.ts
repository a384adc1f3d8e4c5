import { HttpException, HttpStatus } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { RealtimeException } from '../errors/realtime.exception.js';
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
