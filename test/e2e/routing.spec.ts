import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type ArgumentsHost,
  Catch,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  Injectable,
  Module,
  type NestInterceptor,
  UseFilters,
  UseGuards,
  UseInterceptors,
  ValidationPipe,
} from '@nestjs/common';
import { ConnectedSocket, MessageBody, WsException } from '@nestjs/websockets';
import { IsString, Length } from 'class-validator';
import { map, of, EMPTY, type Observable } from 'rxjs';
import {
  Channel,
  ChannelName,
  ChannelParams,
  ConnectedClient,
  Envelope,
  ErrorCode,
  ForbiddenRealtimeException,
  type InboundFrame,
  OnMessage,
  Payload,
  PayloadTooLargeRealtimeException,
  RateLimitedException,
  type RealtimeConnection,
  RealtimeModule,
  RealtimeService,
  UnauthorizedRealtimeException,
} from 'nestjs-realtime';
import { PLATFORMS, type TestApp, startApp } from '../support/create-app.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { TestClient, ofType } from '../support/test-client.js';

class ChatMessageDto {
  @IsString()
  @Length(1, 20)
  text!: string;
}

/** Refuses joins and messages from users without the `moderator` role. */
@Injectable()
class ModeratorGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const client = context.switchToWs().getClient<RealtimeConnection>();
    return ((client.metadata.roles as string[] | undefined) ?? []).includes('moderator');
  }
}

/** Wraps every result: proves interceptors run around handlers. */
@Injectable()
class WrapInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const pattern = context.switchToWs().getPattern();
    return next.handle().pipe(map((result: unknown) => ({ wrapped: result, pattern })));
  }
}

class Teapot extends Error {}

/** Turns a Teapot into a successful answer: a filter's return value is the result. */
@Catch(Teapot)
class TeapotFilter implements ExceptionFilter {
  catch(_exception: Teapot, host: ArgumentsHost): unknown {
    return { handledBy: 'TeapotFilter', type: host.getType() };
  }
}

/** Sees every error but returns nothing: the library's default answer must still go out. */
@Catch()
class ObservingFilter implements ExceptionFilter {
  static seen: unknown[] = [];
  catch(exception: unknown): undefined {
    ObservingFilter.seen.push(exception);
    return undefined;
  }
}

@Channel('room:{roomId}')
class RoomChannel {
  constructor(private readonly realtime: RealtimeService) {}

  canJoin(client: RealtimeConnection, params: { roomId: string }): boolean {
    return params.roomId !== 'closed' && client.userId !== 'banned';
  }

  @OnMessage('chat:group')
  async send(
    @Payload(new ValidationPipe()) message: ChatMessageDto,
    @ConnectedClient() client: RealtimeConnection,
    @ChannelName() channel: string,
    @ChannelParams('roomId') roomId: string,
  ) {
    const { envelope: sent } = await this.realtime.broadcastToChannel(channel, {
      type: 'chat:group',
      payload: { text: message.text, roomId },
      sender: client.userId,
    });
    return { id: sent.id };
  }

  @OnMessage('room:info')
  info(@ChannelParams() params: Record<string, string>, @Envelope() frame: InboundFrame) {
    return { params, type: frame.type, channel: frame.channel, metadata: frame.metadata };
  }
}

@Channel('staff:{team}')
@UseGuards(ModeratorGuard)
class StaffChannel {
  @OnMessage('staff:note')
  note(@Payload('text') text: string) {
    return { noted: text };
  }
}

@Channel('news:*', { public: true })
class NewsChannel {}

@Channel()
class EchoHandlers {
  @OnMessage('echo')
  echo(@MessageBody() body: unknown, @ConnectedSocket() client: RealtimeConnection) {
    return { body, from: client.userId };
  }

  /** An ack of any size from a small request: `text` repeated `times`. */
  @OnMessage('echo:repeat')
  repeat(@Payload() body: { text: string; times: number }) {
    return body.text.repeat(body.times);
  }

  @OnMessage('echo:promise')
  async echoLater(@Payload() body: unknown) {
    await Promise.resolve();
    return body;
  }

  @OnMessage('echo:observable')
  echoObservable(@Payload() body: unknown) {
    return of(1, 2, body);
  }

  /** No parameter decorators: called with the raw arguments, as Nest's proxy calls such a method. */
  @OnMessage('echo:raw')
  raw(...args: unknown[]) {
    const [client, payload, context, pattern] = args as [RealtimeConnection, unknown, { channel?: string }, string];
    return { from: client.userId, payload, channel: context.channel ?? null, pattern };
  }

  @OnMessage('nothing')
  nothing() {
    return EMPTY;
  }

  @OnMessage('alias:one')
  @OnMessage('alias:two')
  alias(@Envelope() frame: InboundFrame) {
    return frame.type;
  }

  @OnMessage('fail:internal')
  internal(): never {
    throw new Error('database password is hunter2');
  }

  @OnMessage('fail:ws')
  wsException(): never {
    throw new WsException('Room is full');
  }

  @OnMessage('fail:ws-code')
  wsExceptionWithCode(): never {
    throw new WsException({ code: 'RATE_LIMITED', message: 'Slow down', details: { retryAfterMs: 10 } });
  }

  @OnMessage('fail:forbidden')
  forbidden(): never {
    throw new ForbiddenRealtimeException('Moderators only');
  }

  @OnMessage('fail:unauthorized')
  unauthorized(): never {
    throw new UnauthorizedRealtimeException();
  }

  @OnMessage('fail:rate')
  rate(): never {
    throw new RateLimitedException(1500);
  }

  @OnMessage('fail:big')
  big(): never {
    throw new PayloadTooLargeRealtimeException('Attachment over 1 MiB');
  }

  @OnMessage('fail:unencodable')
  unencodable() {
    return { big: BigInt(1) };
  }

  @OnMessage('intercepted')
  @UseInterceptors(WrapInterceptor)
  intercepted() {
    return 'inner';
  }

  @OnMessage('teapot')
  @UseFilters(TeapotFilter)
  teapot(): never {
    throw new Teapot();
  }

  @OnMessage('observed')
  @UseFilters(ObservingFilter)
  observed(): never {
    throw new ForbiddenRealtimeException('no');
  }
}

@Module({
  imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId })],
  providers: [RoomChannel, StaffChannel, NewsChannel, EchoHandlers, ModeratorGuard],
})
class RoutingModule {}

describe.each(PLATFORMS)('routing through Nest (%s)', (platform) => {
  let server: TestApp;
  let alice: TestClient;
  let bob: TestClient;

  beforeAll(async () => {
    server = await startApp(RoutingModule, platform);
    alice = await TestClient.connect(server.url, { token: 'alice' });
    bob = await TestClient.connect(server.url, { token: 'bob' });
  });

  afterAll(async () => {
    await alice.close();
    await bob.close();
    await server.app.close();
  });

  describe('subscriptions', () => {
    it('confirms a subscribe with `subscribed` answering its id', async () => {
      const reply = await alice.request({ type: 'subscribe', channel: 'room:1', id: 's1' });
      expect(reply).toEqual({ type: 'subscribed', channel: 'room:1', replyTo: 's1' });
    });

    it('answers a repeated subscribe the same way', async () => {
      const reply = await alice.subscribe('room:1');
      expect(reply.type).toBe('subscribed');
    });

    it('refuses channels that match no declared pattern with FORBIDDEN', async () => {
      const reply = await alice.subscribe('secret:1');
      expect(reply.type).toBe('error');
      expect(reply.error?.code).toBe(ErrorCode.FORBIDDEN);
    });

    it('accepts a channel matched by a wildcard pattern', async () => {
      expect((await bob.subscribe('news:sports')).type).toBe('subscribed');
    });

    it('refuses a join that canJoin rejects with FORBIDDEN', async () => {
      const reply = await alice.subscribe('room:closed');
      expect(reply.error?.code).toBe(ErrorCode.FORBIDDEN);
      const banned = await TestClient.connect(server.url, { token: 'banned' });
      expect((await banned.subscribe('room:1')).error?.code).toBe(ErrorCode.FORBIDDEN);
      await banned.close();
    });

    it('runs the class guards on a join', async () => {
      expect((await alice.subscribe('staff:ops')).error?.code).toBe(ErrorCode.FORBIDDEN);
      const moderator = await TestClient.connect(server.url, { token: 'roles:carol:moderator' });
      expect((await moderator.subscribe('staff:ops')).type).toBe('subscribed');
      const reply = await moderator.request({ type: 'staff:note', channel: 'staff:ops', payload: { text: 'hi' } });
      expect(reply.payload).toEqual({ noted: 'hi' });
      await moderator.close();
    });

    it('answers an unsubscribe with an ack, and a second one with NOT_SUBSCRIBED', async () => {
      await bob.subscribe('room:leave');
      expect(await bob.request({ type: 'unsubscribe', channel: 'room:leave', id: 'u1' })).toEqual({
        type: 'ack',
        replyTo: 'u1',
      });
      const again = await bob.request({ type: 'unsubscribe', channel: 'room:leave' });
      expect(again.error?.code).toBe(ErrorCode.NOT_SUBSCRIBED);
    });

    it('requires a channel on subscribe', async () => {
      expect((await alice.request({ type: 'subscribe' })).error?.code).toBe(ErrorCode.BAD_REQUEST);
    });
  });

  describe('handlers', () => {
    it('delivers a channel broadcast to members only, and acks with the handler result', async () => {
      await alice.subscribe('room:7');
      await bob.subscribe('room:8');
      const ack = await alice.request({ type: 'chat:group', channel: 'room:7', payload: { text: 'hello' } });
      expect(ack.type).toBe('ack');
      const delivered = await alice.nextOfType('chat:group');
      expect(delivered).toMatchObject({
        type: 'chat:group',
        channel: 'room:7',
        sender: 'alice',
        payload: { text: 'hello', roomId: '7' },
      });
      expect(typeof delivered.timestamp).toBe('number');
      expect(ack.payload).toEqual({ id: delivered.id });
      await bob.sync();
      expect(bob.pending(ofType('chat:group'))).toEqual([]);
    });

    it('refuses a channel message from a non-member with NOT_SUBSCRIBED', async () => {
      const reply = await bob.request({ type: 'chat:group', channel: 'room:7', payload: { text: 'sneaky' } });
      expect(reply.error?.code).toBe(ErrorCode.NOT_SUBSCRIBED);
      const noChannel = await bob.request({ type: 'chat:group', payload: { text: 'where?' } });
      expect(noChannel.error?.code).toBe(ErrorCode.NOT_SUBSCRIBED);
    });

    it('answers VALIDATION_FAILED with the constraint details from a ValidationPipe', async () => {
      const reply = await alice.request({ type: 'chat:group', channel: 'room:7', payload: { text: 42 } });
      expect(reply.error?.code).toBe(ErrorCode.VALIDATION_FAILED);
      expect(reply.error?.details).toEqual({
        errors: expect.arrayContaining([expect.stringContaining('text must be a string')]),
      });
    });

    it('gives handlers the channel params, name and the whole frame', async () => {
      await alice.subscribe('room:params');
      const reply = await alice.request({
        type: 'room:info',
        channel: 'room:params',
        metadata: { trace: 't-1' },
      });
      expect(reply.payload).toEqual({
        params: { roomId: 'params' },
        type: 'room:info',
        channel: 'room:params',
        metadata: { trace: 't-1' },
      });
    });

    it("supports Nest's @MessageBody and @ConnectedSocket", async () => {
      const reply = await bob.request({ type: 'echo', payload: { n: 1 } });
      expect(reply.payload).toEqual({ body: { n: 1 }, from: 'bob' });
    });

    it('acks the resolved value of a Promise and the last value of an Observable', async () => {
      expect((await bob.request({ type: 'echo:promise', payload: 'later' })).payload).toBe('later');
      expect((await bob.request({ type: 'echo:observable', payload: 'last' })).payload).toBe('last');
      expect((await bob.request({ type: 'echo:raw', payload: 7 })).payload).toEqual({
        from: 'bob',
        payload: 7,
        channel: null,
        pattern: 'echo:raw',
      });
      expect(await bob.request({ type: 'nothing', id: 'n1' })).toEqual({ type: 'ack', replyTo: 'n1' });
    });

    it('delivers acks of every frame length form whole (7-bit, 16-bit and 64-bit lengths, multi-byte text)', async () => {
      for (const [text, times] of [
        ['', 1],
        ['a', 100],
        ['é', 70],
        ['a', 65_000],
        ['✓', 30_000],
      ] as const) {
        const reply = await bob.request({ type: 'echo:repeat', payload: { text, times } });
        expect(reply.payload).toBe(text.repeat(times));
      }
    });

    it('routes every type stacked on one method', async () => {
      expect((await bob.request({ type: 'alias:one' })).payload).toBe('alias:one');
      expect((await bob.request({ type: 'alias:two' })).payload).toBe('alias:two');
    });

    it('sends no ack for a frame without id', async () => {
      bob.send({ type: 'echo', payload: 'fire-and-forget' });
      await bob.sync();
      expect(bob.pending(ofType('ack'))).toEqual([]);
    });

    it('runs interceptors around the handler, with the ws context', async () => {
      const reply = await bob.request({ type: 'intercepted' });
      expect(reply.payload).toEqual({ wrapped: 'inner', pattern: 'intercepted' });
    });

    it("acks what the app's exception filter returns", async () => {
      const reply = await bob.request({ type: 'teapot' });
      expect(reply.type).toBe('ack');
      expect(reply.payload).toEqual({ handledBy: 'TeapotFilter', type: 'ws' });
    });

    it('still answers the default error when a filter returns nothing', async () => {
      ObservingFilter.seen = [];
      const reply = await bob.request({ type: 'observed' });
      expect(reply.error?.code).toBe(ErrorCode.FORBIDDEN);
      expect(ObservingFilter.seen).toHaveLength(1);
    });
  });

  describe('error codes', () => {
    it('answers UNKNOWN_TYPE for a type nothing handles', async () => {
      const reply = await bob.request({ type: 'no:such' });
      expect(reply.error?.code).toBe(ErrorCode.UNKNOWN_TYPE);
    });

    it.each([
      ['not JSON', '{"type": "echo"', undefined],
      ['an array', '[1, 2]', undefined],
      ['a string', '"echo"', undefined],
      ['no type', '{"id": "x1"}', 'x1'],
      ['a numeric type', '{"type": 5, "id": "x2"}', 'x2'],
      ['a type with spaces', '{"type": "a b", "id": 3}', 3],
      ['a numeric channel', '{"type": "echo", "channel": 5, "id": "x4"}', 'x4'],
      ['an object recipient', '{"type": "echo", "recipient": {}, "id": "x5"}', 'x5'],
      ['non-string metadata', '{"type": "echo", "metadata": {"a": 1}, "id": "x6"}', 'x6'],
      ['an object id', '{"type": "echo", "id": {"a": 1}}', undefined],
    ])('answers BAD_REQUEST to %s, and the connection stays open', async (_case, raw, replyTo) => {
      bob.send(raw);
      const reply = await bob.nextOfType('error');
      expect(reply.error?.code).toBe(ErrorCode.BAD_REQUEST);
      expect(reply.replyTo).toBe(replyTo);
      expect((await bob.request({ type: 'echo', payload: 'still here' })).payload).toEqual({
        body: 'still here',
        from: 'bob',
      });
    });

    it('answers BAD_REQUEST to binary frames', async () => {
      bob.socket.send(Buffer.from([1, 2, 3]));
      expect((await bob.nextOfType('error')).error?.code).toBe(ErrorCode.BAD_REQUEST);
    });

    it.each([
      ['fail:forbidden', ErrorCode.FORBIDDEN, 'Moderators only'],
      ['fail:unauthorized', ErrorCode.UNAUTHORIZED, 'Authentication required'],
      ['fail:big', ErrorCode.PAYLOAD_TOO_LARGE, 'Attachment over 1 MiB'],
      ['fail:ws', ErrorCode.BAD_REQUEST, 'Room is full'],
    ])('maps what %s throws to %s', async (type, code, message) => {
      const reply = await bob.request({ type });
      expect(reply.error).toEqual({ code, message });
    });

    it('maps RateLimitedException to RATE_LIMITED with retryAfterMs', async () => {
      const reply = await bob.request({ type: 'fail:rate' });
      expect(reply.error).toEqual({
        code: ErrorCode.RATE_LIMITED,
        message: 'Rate limit exceeded',
        details: { retryAfterMs: 1500 },
      });
    });

    it('keeps the code a WsException carries', async () => {
      const reply = await bob.request({ type: 'fail:ws-code' });
      expect(reply.error).toEqual({ code: 'RATE_LIMITED', message: 'Slow down', details: { retryAfterMs: 10 } });
    });

    it('answers INTERNAL without the message or stack, and logs the stack', async () => {
      const reply = await bob.request({ type: 'fail:internal', id: 'boom' });
      expect(reply).toEqual({ type: 'error', replyTo: 'boom', error: { code: 'INTERNAL', message: 'Internal error' } });
      const logged = server.logger.find('error', 'EchoHandlers.internal failed');
      expect(logged?.message).toContain(bob.connectionId);
      expect(String(logged?.extra[0])).toContain('hunter2');
    });

    it('answers INTERNAL when a result cannot be encoded', async () => {
      const reply = await bob.request({ type: 'fail:unencodable' });
      expect(reply.error?.code).toBe(ErrorCode.INTERNAL);
    });

    it('does not log expected refusals as errors', () => {
      expect(server.logger.entries.filter((entry) => entry.level === 'error')).toHaveLength(2);
    });
  });
});
