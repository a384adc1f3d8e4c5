import {
  Channel,
  ConnectedClient,
  Envelope,
  ErrorCode,
  type InboundFrame,
  MessageType,
  OnMessage,
  Payload,
  type RealtimeConnection,
  RealtimeException,
  RealtimeService,
  ValidationFailedException,
} from 'nestjs-realtime';
import { isUserName } from '../auth/user-name.js';
import { ChatMessageDto } from './chat-message.dto.js';

/**
 * Direct messages: `chat:private` with a `recipient` reaches every device of the recipient and the sender's others,
 * as `{ type: 'chat:private', sender, recipient, payload: { text } }`. The module's `directMessages` option does the
 * same without this class; the sample writes it to validate the text (a DTO) and the recipient (a sample user name).
 */
@Channel()
export class PrivateMessages {
  constructor(private readonly realtime: RealtimeService) {}

  @OnMessage(MessageType.CHAT_PRIVATE)
  async send(
    @Payload() message: ChatMessageDto,
    @Envelope() frame: InboundFrame,
    @ConnectedClient() client: RealtimeConnection,
  ): Promise<{ id: string | undefined }> {
    const recipient = frame.recipient;
    if (!isUserName(recipient)) {
      throw new ValidationFailedException('"recipient" must be a user name', { field: 'recipient' });
    }
    const sender = client.userId as string;
    const outgoing = { type: MessageType.CHAT_PRIVATE, payload: { text: message.text }, sender, recipient };
    const { envelope, online } = await this.realtime.sendToUser(recipient, outgoing, { except: client.id });
    if (!online) {
      throw new RealtimeException(ErrorCode.RECIPIENT_OFFLINE, `${recipient} is not online`);
    }
    if (recipient !== sender) {
      await this.realtime.sendToUser(sender, { ...outgoing, id: envelope.id }, { except: client.id });
    }
    return { id: envelope.id };
  }
}
