import { Inject, Injectable } from '@nestjs/common';
import { encodeEnvelope, isValidId } from '../protocol/codec.js';
import type { EnvelopeMetadata, FrameId, RealtimeEnvelope } from '../protocol/envelope.js';
import { describeValue } from '../util/describe-value.js';
import { PROTOCOL_LIMITS, isValidName } from '../protocol/limits.js';
import { NODE_ID } from '../realtime.constants.js';

/** A message server code sends. The server completes it with `id`, `timestamp` and `sender`. */
export interface RealtimeMessage<TPayload = unknown> {
  /** An application type such as `chat:group`, `notification` or `event:<name>`. */
  readonly type: string;
  readonly payload?: TPayload;
  /** The user this message is from; `null` (the default) marks the server itself. */
  readonly sender?: string | null;
  /** The channel it belongs to. `broadcastToChannel` sets it to its target channel. */
  readonly channel?: string;
  readonly metadata?: EnvelopeMetadata;
  /** Its id, for an app that keeps its own (a database key): 1 to 64 characters. Default `m_<node><sequence>`. */
  readonly id?: string;
  /** The user it is addressed to (direct messages): 1 to 256 characters. */
  readonly recipient?: string;
  /** The id of the message it answers (a client frame's `id`, or a message's): a string of 1 to 64, or an integer. */
  readonly replyTo?: FrameId;
}

/** A completed envelope and its encoding, made once per publish. */
export interface CompletedMessage<TPayload = unknown> {
  readonly envelope: RealtimeEnvelope<TPayload>;
  readonly frame: string;
}

/** Completes outgoing messages: ids unique across nodes (`m_<node><sequence>`), timestamps, the sender. */
@Injectable()
export class EnvelopeFactory {
  #sequence = 0;

  constructor(@Inject(NODE_ID) private readonly nodeId: string) {}

  /** Throws a `TypeError` naming the problem when `message` is not a message with a valid `type`. */
  check(message: RealtimeMessage): void {
    if (typeof message !== 'object' || message === null) {
      throw new TypeError(`A realtime message must be an object with a "type", got ${String(message)}`);
    }
    if (typeof message.type !== 'string' || !isValidName(message.type)) {
      throw new TypeError(
        `Invalid realtime message type ${JSON.stringify(message.type)}: expected 1 to ` +
          `${PROTOCOL_LIMITS.nameMaxLength} letters, digits or "_ . : / -" characters`,
      );
    }
    const { id, recipient, replyTo } = message;
    if (id !== undefined && !isString(id, PROTOCOL_LIMITS.idMaxLength)) {
      throw new TypeError(
        `Invalid realtime message id ${describeValue(id)}: expected a string of 1 to ${PROTOCOL_LIMITS.idMaxLength} characters`,
      );
    }
    if (recipient !== undefined && !isString(recipient, PROTOCOL_LIMITS.recipientMaxLength)) {
      throw new TypeError(
        `Invalid realtime message recipient ${describeValue(recipient)}: expected a user id of 1 to ` +
          `${PROTOCOL_LIMITS.recipientMaxLength} characters`,
      );
    }
    if (replyTo !== undefined && !isValidId(replyTo)) {
      throw new TypeError(
        `Invalid realtime message replyTo ${describeValue(replyTo)}: expected a frame id (a string of 1 to ` +
          `${PROTOCOL_LIMITS.idMaxLength} characters, or an integer)`,
      );
    }
  }

  complete<TPayload>(message: RealtimeMessage<TPayload>, channel?: string): CompletedMessage<TPayload> {
    this.check(message);
    const envelope: RealtimeEnvelope<TPayload> = {
      type: message.type,
      id: message.id ?? `m_${this.nodeId}${(++this.#sequence).toString(36)}`,
      channel: channel ?? message.channel,
      sender: message.sender ?? null,
      recipient: message.recipient,
      timestamp: Date.now(),
      replyTo: message.replyTo,
      payload: message.payload,
      metadata: message.metadata,
    };
    return { envelope, frame: encodeEnvelope(envelope) };
  }
}

function isString(value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength;
}
