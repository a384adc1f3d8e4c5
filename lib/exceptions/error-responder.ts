import { Injectable, Logger } from '@nestjs/common';
import type { Connection } from '../connection/connection.js';
import type { ErrorBody, FrameId } from '../protocol/envelope.js';
import { RealtimeStats } from '../operations/realtime-stats.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { errorFrame } from '../protocol/frames.js';
import { mapException } from './exception-mapper.js';

/** Answers refused frames with `error` frames: the one place refusals are logged. */
@Injectable()
export class ErrorResponder {
  readonly #logger = new Logger('RealtimeModule');

  constructor(private readonly stats: RealtimeStats) {}

  /** Sends an error frame for a refusal the library decided itself. */
  refuse(connection: Connection, error: ErrorBody, replyTo?: FrameId): void {
    this.stats.errors.add(error.code);
    if (error.code === ErrorCode.RATE_LIMITED) {
      this.stats.rateLimited++;
    }
    this.#logger.debug(`[${connection.id}] refused a frame: ${error.code} ${error.message}`);
    connection.sendEnvelope(errorFrame(error, replyTo));
  }

  /** Sends an error frame for something thrown while handling a frame; unexpected errors go to the log with a stack. */
  fail(connection: Connection, exception: unknown, replyTo: FrameId | undefined, where: string): void {
    const { body, expected } = mapException(exception);
    if (!expected) {
      this.#logger.error(
        `[${connection.id}] ${where} failed: ${exception instanceof Error ? exception.message : String(exception)}`,
        exception instanceof Error ? exception.stack : undefined,
      );
    }
    this.refuse(connection, body, replyTo);
  }
}
