import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RawData } from 'ws';
import { ChannelQueries } from '../channels/channel-queries.js';
import { ControlFrames } from '../channels/control-frames.js';
import { WhisperRelay } from '../channels/whisper-relay.js';
import type { Connection } from '../connection/connection.js';
import { ErrorResponder } from '../exceptions/error-responder.js';
import { RealtimeStats } from '../operations/realtime-stats.js';
import { FrameRateLimiter } from '../protection/frame-rate-limiter.js';
import type { RateLimitVerdict } from '../protection/rate-limit-store.js';
import type { DecodeOptions } from '../protocol/codec.js';
import { ControlType, MessageType } from '../protocol/message-types.js';
import { RESOLVED_OPTIONS } from '../realtime.constants.js';
import type { ResolvedRealtimeOptions } from '../realtime.options.js';
import { DirectMessages } from './direct-messages.js';
import { DispatchTable } from './dispatch-table.js';
import { MessageDispatcher } from './message-dispatcher.js';

const CONTROL_TYPES: ReadonlySet<string> = new Set(Object.values(ControlType));

/**
 * Every inbound frame starts here: decode and validate, then control frames or application handlers.
 *
 * Frames of one connection are handled one at a time, in arrival order: a client may send `subscribe` and then a
 * message to that channel without waiting, and two messages from one client are never reordered by async handlers.
 * Frames that arrive meanwhile wait in the connection's bounded backlog.
 */
@Injectable()
export class InboundDispatcher {
  readonly #logger = new Logger('RealtimeModule');
  readonly #decodeOptions: DecodeOptions;
  /** `chat:private` with the `directMessages` option: relayed by the module itself. */
  readonly #directMessages: boolean;

  constructor(
    @Inject(RESOLVED_OPTIONS) options: ResolvedRealtimeOptions,
    private readonly control: ControlFrames,
    private readonly whispers: WhisperRelay,
    private readonly queries: ChannelQueries,
    private readonly messages: MessageDispatcher,
    private readonly errors: ErrorResponder,
    private readonly limiter: FrameRateLimiter,
    private readonly table: DispatchTable,
    private readonly stats: RealtimeStats,
    private readonly direct: DirectMessages,
  ) {
    this.#decodeOptions = { maxChannelNameLength: options.maxChannelNameLength };
    this.#directMessages = options.directMessages;
  }

  receive(connection: Connection, data: RawData, isBinary: boolean): void {
    if (connection.handling) {
      connection.defer(data, isBinary);
      return;
    }
    this.#run(connection, data, isBinary);
  }

  /** Handles one frame; when that takes async work, the connection stays busy until it is done. */
  #run(connection: Connection, data: RawData, isBinary: boolean): void {
    const pending = this.#handle(connection, data, isBinary);
    if (pending === undefined) {
      return;
    }
    connection.handling = true;
    pending.then(
      () => this.#next(connection),
      (error: unknown) => {
        // The handlers answer their own errors; this only catches a bug escaping as an unhandled rejection.
        this.#logger.error(`[${connection.id}] unhandled error while handling a frame`, (error as Error)?.stack);
        this.#next(connection);
      },
    );
  }

  #next(connection: Connection): void {
    connection.handling = false;
    let deferred = connection.takeDeferred();
    while (deferred !== undefined) {
      this.#run(connection, deferred.data, deferred.isBinary);
      if (connection.handling) {
        return;
      }
      deferred = connection.takeDeferred();
    }
  }

  /** Returns a promise when the frame needs async work, undefined when it was handled at once. */
  #handle(connection: Connection, data: RawData, isBinary: boolean): Promise<void> | undefined {
    const verdict = this.limiter.consume(connection);
    if (verdict === undefined) {
      return this.#process(connection, data, isBinary);
    }
    if (verdict instanceof Promise) {
      return verdict.then((settled) =>
        settled.allowed
          ? this.#process(connection, data, isBinary)
          : this.#refuseRate(connection, data, isBinary, settled),
      );
    }
    return verdict.allowed
      ? this.#process(connection, data, isBinary)
      : this.#refuseRate(connection, data, isBinary, verdict);
  }

  #refuseRate(connection: Connection, data: RawData, isBinary: boolean, verdict: RateLimitVerdict): undefined {
    const decoded = connection.format.decode(rawDataToBuffer(data), isBinary, this.#decodeOptions);
    this.limiter.refuse(connection, verdict, decoded.ok ? decoded.frame.id : decoded.replyTo);
    return undefined;
  }

  #process(connection: Connection, data: RawData, isBinary: boolean): Promise<void> | undefined {
    const decoded = connection.format.decode(rawDataToBuffer(data), isBinary, this.#decodeOptions);
    if (!decoded.ok) {
      this.errors.refuse(connection, decoded.error, decoded.replyTo);
      return undefined;
    }
    const { frame } = decoded;
    const known =
      CONTROL_TYPES.has(frame.type) ||
      this.table.lookup(frame.type) !== undefined ||
      (this.#directMessages && frame.type === MessageType.CHAT_PRIVATE);
    this.stats.framesIn.add(known ? frame.type : 'other');
    switch (frame.type) {
      case ControlType.SUBSCRIBE:
        return this.control.subscribe(connection, frame);
      case ControlType.UNSUBSCRIBE:
        return this.control.unsubscribe(connection, frame);
      case ControlType.PING:
        this.control.ping(connection, frame);
        return undefined;
      case ControlType.REFRESH:
        return this.control.refresh(connection, frame);
      case ControlType.WHISPER:
        return this.whispers.relay(connection, frame);
      case ControlType.PRESENCE:
        return this.queries.members(connection, frame);
      case ControlType.HISTORY:
        return this.queries.messages(connection, frame);
      case MessageType.CHAT_PRIVATE:
        return this.#directMessages ? this.direct.relay(connection, frame) : this.messages.dispatch(connection, frame);
      default:
        return this.messages.dispatch(connection, frame);
    }
  }
}

function rawDataToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) {
    return data;
  }
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
