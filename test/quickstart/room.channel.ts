import { IsString, Length } from 'class-validator';
import {
  Channel,
  ChannelName,
  ConnectedClient,
  OnMessage,
  Payload,
  type RealtimeConnection,
  RealtimeService,
} from 'nestjs-realtime';

class ChatMessage {
  @IsString()
  @Length(1, 500)
  text!: string;
}

@Channel('room:{roomId}')
export class RoomChannel {
  constructor(private readonly realtime: RealtimeService) {}

  // Optional: who may subscribe. Class guards (@UseGuards) run too.
  canJoin(client: RealtimeConnection, params: { roomId: string }) {
    return params.roomId !== 'staff' || client.userId === 'admin';
  }

  @OnMessage('chat:group')
  async send(
    @Payload() message: ChatMessage, // validated: see `validation` in app.module.ts
    @ConnectedClient() client: RealtimeConnection,
    @ChannelName() channel: string,
  ) {
    const { envelope: sent } = await this.realtime.broadcastToChannel(channel, {
      type: 'chat:group',
      payload: { text: message.text },
      sender: client.userId,
    });
    return { id: sent.id }; // the ack the client receives
  }
}
