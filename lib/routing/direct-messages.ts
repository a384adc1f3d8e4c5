import { Injectable } from '@nestjs/common';
import type { Connection } from '../connection/connection.js';
import { ErrorResponder } from '../exceptions/error-responder.js';
import type { InboundFrame } from '../protocol/envelope.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { ackFrame } from '../protocol/frames.js';
import { MessageType } from '../protocol/message-types.js';
import { EnvelopeFactory } from '../service/envelope-factory.js';
import { UserSender } from '../service/user-sender.js';

/**
 * The built-in `chat:private` (the `directMessages` option): `{type: 'chat:private', recipient, payload}` from an
 * authenticated connection reaches every device of the recipient, on every node, and the sender's other devices,
 * as `{type: 'chat:private', id, sender, recipient, timestamp, payload}`; the sender gets an ack with the id. A
 * recipient with no connection anywhere is answered `RECIPIENT_OFFLINE`.
 */
@Injectable()
export class DirectMessages {
  constructor(
    private readonly envelopes: EnvelopeFactory,
    private readonly users: UserSender,
    private readonly errors: ErrorResponder,
  ) {}

  async relay(connection: Connection, frame: InboundFrame): Promise<void> {
    const { recipient, id } = frame;
    const sender = connection.userId;
    if (sender === null) {
      this.errors.refuse(
        connection,
        { code: ErrorCode.UNAUTHORIZED, message: 'Direct messages need an authenticated sender' },
        id,
      );
      return;
    }
    if (recipient === undefined) {
      this.errors.refuse(
        connection,
        { code: ErrorCode.BAD_REQUEST, message: `"recipient" (a user id) is required in ${MessageType.CHAT_PRIVATE}` },
        id,
      );
      return;
    }
    try {
      const { envelope, frame: encoded } = this.envelopes.complete({
        type: MessageType.CHAT_PRIVATE,
        sender,
        recipient,
        payload: frame.payload,
        metadata: frame.metadata,
      });
      const except = [connection.id];
      const { online } = await this.users.send(recipient, envelope, encoded, { except });
      if (!online) {
        this.errors.refuse(
          connection,
          { code: ErrorCode.RECIPIENT_OFFLINE, message: `User "${recipient}" is not connected` },
          id,
        );
        return;
      }
      if (recipient !== sender) {
        // The sender's other devices keep the conversation too.
        await this.users.send(sender, envelope, encoded, { except });
      }
      if (id !== undefined) {
        connection.sendEnvelope(ackFrame(id, { id: envelope.id, timestamp: envelope.timestamp }));
      }
    } catch (exception) {
      this.errors.fail(connection, exception, id, `delivering a direct message to "${recipient}"`);
    }
  }
}
