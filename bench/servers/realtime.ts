// This library through a sample-style app: JWT authentication at the handshake, a channel class with a join check,
// a guard, a global ValidationPipe, broadcasts through RealtimeService. Caps are off (one load generator opens
// thousands of connections from one address) and the rate limit is set high, so its code path still runs.
import { createSecretKey } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type CanActivate, type ExecutionContext, Injectable, Module, UseGuards, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtModule, JwtService } from '@nestjs/jwt';
import {
  Channel,
  ChannelName,
  ConnectedClient,
  OnMessage,
  Payload,
  type RealtimeAuthenticator,
  type RealtimeConnection,
  type RealtimeIdentity,
  RealtimeModule,
  type RealtimeModuleOptions,
  RealtimeService,
  getHandshakeToken,
} from 'nestjs-realtime';
import { natsRealtime } from 'nestjs-realtime/nats';
import { redisRealtime } from 'nestjs-realtime/redis';
import { BENCH_SECRET } from '../bench-secret.js';
import { serveIpc } from './ipc.js';
import { ChatMessage, EchoRequest } from './payloads.js';

@Injectable()
class JwtAuthenticator implements RealtimeAuthenticator {
  constructor(private readonly jwt: JwtService) {}

  async authenticate(request: IncomingMessage): Promise<RealtimeIdentity | null> {
    const token = getHandshakeToken(request);
    if (!token) {
      return null;
    }
    const { sub } = await this.jwt.verifyAsync<{ sub: string }>(token);
    return { userId: sub };
  }
}

@Injectable()
class SignedInGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getClient<RealtimeConnection>().userId !== null;
  }
}

@Channel('room:{roomId}')
class RoomChannel {
  constructor(private readonly realtime: RealtimeService) {}

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

@Channel()
class EchoHandlers {
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
    // A KeyObject, not a string: jsonwebtoken otherwise tries createPublicKey on the secret (and catches the throw)
    // on every verify, which costs more than the rest of the handshake.
    JwtModule.register({ global: true, secret: createSecretKey(Buffer.from(BENCH_SECRET)) }),
    RealtimeModule.forRoot({
      // BENCH_ANONYMOUS=1 (a breakdown row): no handshake authentication, to show what verifying the JWT costs.
      authenticate: process.env.BENCH_ANONYMOUS === '1' ? undefined : JwtAuthenticator,
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
      // Scale-out targets: instances started together share a backend and a prefix.
      ...scaleOut(process.env),
    }),
  ],
  providers: [JwtAuthenticator, RoomChannel, EchoHandlers],
})
class BenchModule {}

const app = await NestFactory.create(BenchModule, { logger: ['error', 'warn'] });
// BENCH_VALIDATION=0 (a breakdown row, not the bar): the same app without the ValidationPipe, which shows what
// class-transformer and class-validator cost apart from the library.
if (process.env.BENCH_VALIDATION !== '0') {
  app.useGlobalPipes(new ValidationPipe({ whitelist: true }));
}
await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
serveIpc(Number(new URL(await app.getUrl()).port));
