import {
  Channel,
  ChannelName,
  ConnectedClient,
  MessageType,
  OnMessage,
  Payload,
  type OnWhisper,
  type RealtimeConnection,
  RealtimeService,
  type Whisper,
} from 'nestjs-realtime';
import { ChatMessageDto, StatusDto } from './chat-message.dto.js';

/** What members may whisper in a room: typing indicators and read receipts. */
const ROOM_WHISPERS: ReadonlySet<string> = new Set(['typing', 'read']);

/**
 * Chat rooms: any signed-in user may join `room:<id>` and talk to the room. Members see who is online and their
 * status (presence), who is typing (whispers), and the last 50 messages when they join; a client that reconnects
 * with its last offset gets exactly what it missed from the last 100 (kept for the default hour).
 */
@Channel('room:{roomId}', { presence: true, history: { size: 100, replayOnJoin: 50 }, whispers: true })
export class RoomChannel implements OnWhisper {
  constructor(private readonly realtime: RealtimeService) {}

  onWhisper(_client: RealtimeConnection, whisper: Whisper): boolean {
    return ROOM_WHISPERS.has(whisper.event);
  }

  canJoin(client: RealtimeConnection): boolean {
    return client.userId !== null;
  }

  @OnMessage(MessageType.CHAT_GROUP)
  async send(
    @Payload() message: ChatMessageDto,
    @ConnectedClient() client: RealtimeConnection,
    @ChannelName() channel: string,
  ): Promise<{ id: string | undefined; offset: number | undefined }> {
    const { envelope: sent } = await this.realtime.broadcastToChannel(channel, {
      type: MessageType.CHAT_GROUP,
      payload: { text: message.text },
      sender: client.userId,
    });
    return { id: sent.id, offset: sent.offset };
  }

  /**
   * The sender's presence status in this room (online, away, busy), shown to every member: its info keeps the
   * color and gains the status. Answers whether it was set (false: not a member).
   */
  @OnMessage('presence:status')
  status(
    @Payload() { status }: StatusDto,
    @ConnectedClient() client: RealtimeConnection,
    @ChannelName() channel: string,
  ): Promise<boolean> {
    return this.realtime.setPresenceInfo(channel, client.userId!, { ...client.info, status });
  }
}

/**
 * Server events: anyone may subscribe to `events:<name>`; `POST /api/events/:name` publishes to it. `{name...}` takes
 * the rest of the channel, so event names may hold `:` too (`events:deploy:eu-1`).
 */
@Channel('events:{name...}', { public: true })
export class EventsChannel {}
