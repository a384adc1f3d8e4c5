import { Injectable, Logger } from '@nestjs/common';
import type { Connection } from '../connection/connection.js';
import {
  type FailureContext,
  RealtimeMessageError,
  RealtimeRateLimitError,
  RealtimeWhisperError,
} from '../errors/realtime-failure.js';
import type { ErrorBody, FrameId } from '../protocol/envelope.js';
import { RealtimeStats } from '../operations/realtime-stats.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { errorFrame } from '../protocol/frames.js';
import { LifecycleHooks } from '../routing/lifecycle-hooks.js';
import { mapException } from './exception-mapper.js';

/** What a refused frame was: a whisper's refusals are whisper errors for `OnRealtimeError`. */
export type RefusedFrame = 'message' | 'whisper';

/** Answers refused frames with `error` frames: the one place refusals are logged and reported to `OnRealtimeError`. */
@Injectable()
export class ErrorResponder {
  readonly #logger = new Logger('RealtimeModule');

  constructor(
    private readonly stats: RealtimeStats,
    private readonly hooks: LifecycleHooks,
  ) {}

  /** Sends an error frame for a refusal the library decided itself. */
  refuse(connection: Connection, error: ErrorBody, replyTo?: FrameId, frame: RefusedFrame = 'message'): void {
    this.#answer(connection, error, replyTo, frame, undefined);
  }

  /** Sends an error frame for something thrown while handling a frame; unexpected errors go to the log with a stack. */
  fail(
    connection: Connection,
    exception: unknown,
    replyTo: FrameId | undefined,
    where: string,
    frame: RefusedFrame = 'message',
  ): void {
    const { body, expected } = mapException(exception);
    if (!expected) {
      this.#logger.error(
        `[${connection.id}] ${where} failed: ${exception instanceof Error ? exception.message : String(exception)}`,
        exception instanceof Error ? exception.stack : undefined,
      );
    }
    this.#answer(connection, body, replyTo, frame, exception);
  }

  #answer(connection: Connection, error: ErrorBody, replyTo: FrameId | undefined, frame: RefusedFrame, cause: unknown) {
    this.stats.errors.add(error.code);
    if (error.code === ErrorCode.RATE_LIMITED) {
      this.stats.rateLimited++;
    }
    this.#logger.debug(`[${connection.id}] refused a frame: ${error.code} ${error.message}`);
    connection.sendEnvelope(errorFrame(error, replyTo));
    this.hooks.report(() => {
      const context: FailureContext = { client: connection.view, cause };
      if (error.code === ErrorCode.RATE_LIMITED) {
        return new RealtimeRateLimitError(error.code, error.message, context);
      }
      return frame === 'whisper'
        ? new RealtimeWhisperError(error.code, error.message, context)
        : new RealtimeMessageError(error.code, error.message, context);
    });
  }
}
