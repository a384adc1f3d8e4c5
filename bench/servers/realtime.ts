// This library through a sample-style app: JWT authentication at the handshake, a channel class with a join check,
// compiled validation of the payloads (the `validation` option, as the sample), broadcasts through
// RealtimeService. Caps are off (one load generator opens
// thousands of connections from one address) and the rate limit is set high, so its code path still runs.
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  Module,
  UseGuards,
  ValidationPipe,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  Channel,
  ChannelName,
  ConnectedClient,
  OnMessage,
  Payload,
  type RealtimeConnection,
  RealtimeModule,
  type RealtimeModuleOptions,
  RealtimeService,
  jwtAuth,
} from 'nestjs-realtime';
import { natsRealtime } from 'nestjs-realtime/nats';
import { redisRealtime } from 'nestjs-realtime/redis';
import { BENCH_SECRET } from '../bench-secret.js';
import { serveIpc } from './ipc.js';
import { ChatMessage, EchoRequest } from './payloads.js';

@Injectable()
class SignedInGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getClient<RealtimeConnection>().userId !== null;
  }
}

/** A chat room: a join check and `chat:group` broadcast to the room, acked with the message id. */
abstract class ChatRoom {
  // A property, so the subclasses need no constructor of their own.
  @Inject(RealtimeService) private readonly realtime!: RealtimeService;

  canJoin(client: RealtimeConnection): boolean {
    return client.userId !== null;
  }

  @OnMessage('chat:group')
  async send(
    @Payload() message: ChatMessage,
    @ConnectedClient() client: RealtimeConnection,
    @ChannelName() channel: string,
  ): Promise<{ id: string | undefined }> {
    const { envelope: sent } = await this.realtime.broadcastToChannel(channel, {
      type: 'chat:group',
      payload: { text: message.text, t: message.t },
      sender: client.userId,
    });
    return { id: sent.id };
  }
}

/** As the sample's rooms: presence (coalesced diffs), history with a replay on join, whispers. */
@Channel('room:{roomId}', { presence: true, history: { size: 100, replayOnJoin: 50 }, whispers: true })
class RoomChannel extends ChatRoom {}

/** A room with none of that: the join scenario's baseline, and the channel of the scale-out rows. */
@Channel('plain:{roomId}')
class PlainChannel extends ChatRoom {}

/** The request/ack handler as the sample writes its own: a validated payload, no guard. */
@Channel()
class EchoHandlers {
  @OnMessage('echo')
  echo(@Payload() request: EchoRequest): EchoRequest {
    return request;
  }
}

/** BENCH_GUARD=1 (a breakdown row): the same handler behind a guard, which takes it through Nest's proxy. */
@Channel()
class GuardedEchoHandlers {
  @UseGuards(SignedInGuard)
  @OnMessage('echo')
  echo(@Payload() request: EchoRequest): EchoRequest {
    return request;
  }
}

/** The backend `BENCH_BACKEND` names, on the address the bench gives, with the run's prefix. */
function scaleOut(env: NodeJS.ProcessEnv): Partial<RealtimeModuleOptions> {
  const prefix = env.BENCH_PREFIX;
  switch (env.BENCH_BACKEND) {
    case 'redis':
      return redisRealtime({ url: env.BENCH_REDIS_URL, keyPrefix: `${prefix}:` });
    case 'redis-cluster':
      return redisRealtime({ cluster: env.BENCH_CLUSTER_NODES!.split(','), keyPrefix: `${prefix}:` });
    case 'nats':
      return natsRealtime({ servers: env.BENCH_NATS_URL, prefix });
    default:
      return {};
  }
}

@Module({
  imports: [
    RealtimeModule.forRoot({
      // BENCH_ANONYMOUS=1 (a breakdown row): no handshake authentication, to show what verifying the JWT costs.
      // The library's built-in JWT check, as the sample uses it.
      authenticate: process.env.BENCH_ANONYMOUS === '1' ? undefined : jwtAuth({ secret: BENCH_SECRET }),
      maxConnections: 0,
      maxConnectionsPerIp: 0,
      maxConnectionsPerUser: 0,
      rateLimit: { limit: 1_000_000, windowMs: 1000 },
      msgpack: process.env.BENCH_MSGPACK === '1',
      // BENCH_DEFLATE: permessage-deflate with its default settings, or lean ones (memory per connection).
      perMessageDeflate:
        process.env.BENCH_DEFLATE === 'default'
          ? true
          : process.env.BENCH_DEFLATE === 'lean'
            ? { serverMaxWindowBits: 10, clientMaxWindowBits: 10, memLevel: 4 }
            : false,
      // As the sample: every payload DTO compiled at boot. BENCH_VALIDATION=0 (a breakdown row): none;
      // BENCH_VALIDATION=global: Nest's own global ValidationPipe instead (what apps do without the option).
      validation: process.env.BENCH_VALIDATION === undefined ? { whitelist: true } : false,
      // Scale-out targets: instances started together share a backend and a prefix.
      ...scaleOut(process.env),
    }),
  ],
  providers: [RoomChannel, PlainChannel, process.env.BENCH_GUARD === '1' ? GuardedEchoHandlers : EchoHandlers],
})
class BenchModule {}

const app = await NestFactory.create(BenchModule, { logger: ['error', 'warn'] });
if (process.env.BENCH_VALIDATION === 'global') {
  app.useGlobalPipes(new ValidationPipe({ whitelist: true }));
}
await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
serveIpc(Number(new URL(await app.getUrl()).port));
