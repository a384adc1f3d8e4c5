import {
  Channel,
  ConnectedClient,
  Envelope,
  type InboundFrame,
  MessageType,
  OnMessage,
  Payload,
  type RealtimeClient,
  RealtimeService,
  ValidationFailedException,
} from 'nestjs-realtime';
import { isUserName } from '../auth/user-name.js';
import { ChatMessageDto } from './chat-message.dto.js';

/** Direct messages: `chat:private` with a `recipient` reaches every device of the recipient and the sender's others. */
@Channel()
export class PrivateMessages {
  constructor(private readonly realtime: RealtimeService) {}

  @OnMessage(MessageType.CHAT_PRIVATE)
  async send(
    @Payload() message: ChatMessageDto,
    @Envelope() frame: InboundFrame,
    @ConnectedClient() client: RealtimeClient,
  ): Promise<{ id: string | undefined }> {
    const recipient = frame.recipient;
    if (!isUserName(recipient)) {
      throw new ValidationFailedException('"recipient" must be a user name', { field: 'recipient' });
    }
    const sender = client.userId as string;
    const outgoing = { type: MessageType.CHAT_PRIVATE, payload: { text: message.text, recipient }, sender };
    const { envelope: sent } = await this.realtime.sendToUser(recipient, outgoing, { except: client.id });
    if (recipient !== sender) {
      await this.realtime.sendToUser(sender, outgoing, { except: client.id });
    }
    return { id: sent.id };
  }
}
