// What a Nest user hand-rolls without this library: a @WebSocketGateway on @nestjs/platform-ws with the same guard
// (on echo) and global ValidationPipe as the library's bench app. platform-ws has no rooms, so channels are a map of channel to
// sockets, as in the raw server; no authentication at the handshake (guards do not run there, nestjs/nest#882).
import { type CanActivate, type ExecutionContext, Injectable, Module, UseGuards, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { serveIpc } from './ipc.js';
import { ChatMessage, EchoRequest } from './payloads.js';

interface Ack {
  readonly type: 'ack' | 'subscribed';
  readonly replyTo: number;
  readonly payload?: unknown;
}

@Injectable()
class OpenSocketGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getClient<WebSocket>().readyState === 1;
  }
}

@WebSocketGateway({ path: '/', perMessageDeflate: false })
class BenchGateway implements OnGatewayDisconnect {
  readonly #channels = new Map<string, Set<WebSocket>>();
  readonly #joined = new WeakMap<WebSocket, Set<string>>();

  @SubscribeMessage('subscribe')
  subscribe(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody('channel') channel: string,
    @MessageBody('id') id: number,
  ): Ack {
    let members = this.#channels.get(channel);
    if (!members) {
      members = new Set();
      this.#channels.set(channel, members);
    }
    members.add(socket);
    let joined = this.#joined.get(socket);
    if (!joined) {
      joined = new Set();
      this.#joined.set(socket, joined);
    }
    joined.add(channel);
    return { type: 'subscribed', replyTo: id };
  }

  @SubscribeMessage('chat:group')
  publish(
    @MessageBody('payload') message: ChatMessage,
    @MessageBody('channel') channel: string,
    @MessageBody('id') id: number,
  ): Ack {
    const text = JSON.stringify({
      type: 'chat:group',
      channel,
      sender: 'publisher',
      timestamp: Date.now(),
      payload: { text: message.text, t: message.t },
    });
    for (const member of this.#channels.get(channel) ?? []) {
      member.send(text);
    }
    return { type: 'ack', replyTo: id };
  }

  @UseGuards(OpenSocketGuard)
  @SubscribeMessage('echo')
  echo(@MessageBody('payload') request: EchoRequest, @MessageBody('id') id: number): Ack {
    return { type: 'ack', replyTo: id, payload: request };
  }

  handleDisconnect(socket: WebSocket): void {
    for (const channel of this.#joined.get(socket) ?? []) {
      this.#channels.get(channel)?.delete(socket);
    }
  }
}

@Module({ providers: [BenchGateway, OpenSocketGuard] })
class GatewayModule {}

const app = await NestFactory.create(GatewayModule, { logger: ['error', 'warn'] });
// The bench protocol's `{ type, ...fields }` frames, as platform-ws's `{ event, data }`.
app.useWebSocketAdapter(
  new WsAdapter(app, {
    // ws hands text frames over as one Buffer (no fragments here: the bench sends small frames).
    messageParser: (data) => {
      const frame = JSON.parse((data as Buffer).toString()) as { type: string };
      return { event: frame.type, data: frame };
    },
  }),
);
app.useGlobalPipes(new ValidationPipe({ whitelist: true }));
await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
serveIpc(Number(new URL(await app.getUrl()).port));
