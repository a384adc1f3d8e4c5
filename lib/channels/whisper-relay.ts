import { Injectable } from '@nestjs/common';
import { Broker } from '../broker/broker.js';
import type { Connection } from '../connection/connection.js';
import { ErrorResponder } from '../exceptions/error-responder.js';
import { encodeEnvelope } from '../protocol/codec.js';
import type { InboundFrame } from '../protocol/envelope.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { ackFrame, whisperFrame } from '../protocol/frames.js';
import { isValidName } from '../protocol/limits.js';
import { ServerFrameType } from '../protocol/message-types.js';
import { subscriberAccess } from './channel-access.js';
import type { Whisper, WhisperVerdict } from './channel-definition.js';

/**
 * `whisper {channel, event, payload}`: relayed to the channel's other connections, on every node, as
 * `whisper {channel, event, sender, payload}`. Never to the sender's own connection, never through a handler.
 * The channel class's `onWhisper` may block or alter it.
 */
@Injectable()
export class WhisperRelay {
  constructor(
    private readonly broker: Broker,
    private readonly errors: ErrorResponder,
  ) {}

  async relay(connection: Connection, frame: InboundFrame): Promise<void> {
    const access = subscriberAccess(connection, frame, 'whispers');
    if ('code' in access) {
      this.errors.refuse(connection, access, frame.id, 'whisper');
      return;
    }
    const { channel, definition } = access;
    if (frame.event === undefined) {
      this.errors.refuse(
        connection,
        { code: ErrorCode.BAD_REQUEST, message: '"event" is required in a whisper' },
        frame.id,
        'whisper',
      );
      return;
    }
    let whisper: Whisper = { channel, event: frame.event, payload: frame.payload };
    if (definition.filterWhisper !== undefined) {
      let verdict: WhisperVerdict;
      try {
        verdict = await definition.filterWhisper(connection.view, whisper);
      } catch (exception) {
        this.errors.fail(connection, exception, frame.id, `${definition.classRef.name}.onWhisper`, 'whisper');
        return;
      }
      if (verdict === false) {
        this.errors.refuse(
          connection,
          { code: ErrorCode.FORBIDDEN, message: `The whisper "${whisper.event}" was blocked in "${channel}"` },
          frame.id,
          'whisper',
        );
        return;
      }
      if (typeof verdict === 'object' && verdict !== null) {
        const altered = alter(whisper, verdict);
        if (altered === undefined) {
          this.errors.fail(
            connection,
            new TypeError(
              `${definition.classRef.name}.onWhisper returned an invalid event ${JSON.stringify(verdict.event)}`,
            ),
            frame.id,
            `${definition.classRef.name}.onWhisper`,
            'whisper',
          );
          return;
        }
        whisper = altered;
      }
    }
    try {
      const encoded = encodeEnvelope(whisperFrame(channel, whisper.event, connection.userId, whisper.payload));
      // Whispers are volatile: a typing indicator that waits behind a backlog is wrong by the time it arrives.
      await this.broker.publish({
        kind: 'channel',
        channel,
        type: ServerFrameType.WHISPER,
        frame: encoded,
        except: [connection.id],
        volatile: true,
      });
    } catch (exception) {
      this.errors.fail(connection, exception, frame.id, `relaying a whisper to "${channel}"`, 'whisper');
      return;
    }
    if (frame.id !== undefined) {
      connection.sendEnvelope(ackFrame(frame.id, undefined));
    }
  }
}

function alter(
  whisper: Whisper,
  change: { readonly event?: unknown; readonly payload?: unknown },
): Whisper | undefined {
  const event = 'event' in change ? change.event : whisper.event;
  if (typeof event !== 'string' || !isValidName(event)) {
    return undefined;
  }
  return { channel: whisper.channel, event, payload: 'payload' in change ? change.payload : whisper.payload };
}
