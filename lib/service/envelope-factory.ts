import { Inject, Injectable } from '@nestjs/common';
import { encodeEnvelope } from '../protocol/codec.js';
import type { EnvelopeMetadata, RealtimeEnvelope } from '../protocol/envelope.js';
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
  }

  complete<TPayload>(message: RealtimeMessage<TPayload>, channel?: string): CompletedMessage<TPayload> {
    this.check(message);
    const envelope: RealtimeEnvelope<TPayload> = {
      type: message.type,
      id: `m_${this.nodeId}${(++this.#sequence).toString(36)}`,
      channel: channel ?? message.channel,
      sender: message.sender ?? null,
      timestamp: Date.now(),
      payload: message.payload,
      metadata: message.metadata,
    };
    return { envelope, frame: encodeEnvelope(envelope) };
  }
}
