import {
  Channel,
  ChannelName,
  ConnectedClient,
  MessageType,
  OnMessage,
  Payload,
  type RealtimeClient,
  RealtimeService,
} from 'nestjs-realtime';
import { ChatMessageDto } from './chat-message.dto.js';

/** Chat rooms: any signed-in user may join `room:<id>` and talk to the room. */
@Channel('room:{roomId}')
export class RoomChannel {
  constructor(private readonly realtime: RealtimeService) {}

  canJoin(client: RealtimeClient): boolean {
    return client.userId !== null;
  }

  @OnMessage(MessageType.CHAT_GROUP)
  async send(
    @Payload() message: ChatMessageDto,
    @ConnectedClient() client: RealtimeClient,
    @ChannelName() channel: string,
  ): Promise<{ id: string | undefined }> {
    const sent = await this.realtime.broadcastToChannel(channel, {
      type: MessageType.CHAT_GROUP,
      payload: { text: message.text },
      sender: client.userId,
    });
    return { id: sent.id };
  }
}

/** Server events: anyone may subscribe to `events:<name>`; `POST /api/events/:name` publishes to it. */
@Channel('events:{name}')
export class EventsChannel {}
