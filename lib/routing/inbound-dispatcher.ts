import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RawData } from 'ws';
import { ControlFrames } from '../channels/control-frames.js';
import type { Connection } from '../connection/connection.js';
import { ErrorResponder } from '../exceptions/error-responder.js';
import { type DecodeOptions, decodeFrame } from '../protocol/codec.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { ControlType } from '../protocol/message-types.js';
import { RESOLVED_OPTIONS } from '../realtime.constants.js';
import type { ResolvedRealtimeOptions } from '../realtime.options.js';
import { MessageDispatcher } from './message-dispatcher.js';

/** Every inbound frame starts here: decode and validate, then control frames or application handlers. */
@Injectable()
export class InboundDispatcher {
  readonly #logger = new Logger('RealtimeModule');
  readonly #decodeOptions: DecodeOptions;

  constructor(
    @Inject(RESOLVED_OPTIONS) options: ResolvedRealtimeOptions,
    private readonly control: ControlFrames,
    private readonly messages: MessageDispatcher,
    private readonly errors: ErrorResponder,
  ) {
    this.#decodeOptions = { maxChannelNameLength: options.maxChannelNameLength };
  }

  handle(connection: Connection, data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.errors.refuse(connection, {
        code: ErrorCode.BAD_REQUEST,
        message: 'Binary frames are not part of realtime.v1: send JSON text frames',
      });
      return;
    }
    const decoded = decodeFrame(rawDataToString(data), this.#decodeOptions);
    if (!decoded.ok) {
      this.errors.refuse(connection, decoded.error, decoded.replyTo);
      return;
    }
    const { frame } = decoded;
    let handling: Promise<void> | undefined;
    switch (frame.type) {
      case ControlType.SUBSCRIBE:
        handling = this.control.subscribe(connection, frame);
        break;
      case ControlType.UNSUBSCRIBE:
        handling = this.control.unsubscribe(connection, frame);
        break;
      case ControlType.PING:
        this.control.ping(connection, frame);
        break;
      default:
        handling = this.messages.dispatch(connection, frame);
    }
    // The handlers answer their own errors; this only guards against a bug escaping as an unhandled rejection.
    handling?.catch((error: unknown) => {
      this.#logger.error(`[${connection.id}] unhandled error for a "${frame.type}" frame`, (error as Error)?.stack);
    });
  }
}

function rawDataToString(data: RawData): string {
  if (Buffer.isBuffer(data)) {
    return data.toString('utf8');
  }
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
}
