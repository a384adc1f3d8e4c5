import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  type ArgumentsHost,
  type CallHandler,
  Catch,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  Injectable,
  Module,
  type NestInterceptor,
  UseFilters,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { IsString, MaxLength } from 'class-validator';
import { type Observable, map } from 'rxjs';
import {
  Channel,
  ChannelName,
  ConnectedClient,
  OnMessage,
  type OnRealtimeConnect,
  Payload,
  type RealtimeConnection,
  RealtimeModule,
  RealtimeService,
} from 'nestjs-realtime';
import { RealtimeTestError, RealtimeTesting, type RealtimeTransport } from 'nestjs-realtime/testing';
import { waitUntil } from '../support/wait-until.js';

class NoteDto {
  @IsString()
  @MaxLength(20)
  text!: string;
}

/** Lets through connections whose metadata says they are editors. */
@Injectable()
class EditorGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getClient<RealtimeConnection>().metadata.role === 'editor';
  }
}

/** Stamps every answer, as an app's interceptor would. */
@Injectable()
class StampInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((result: unknown) => ({ stamped: result })));
  }
}

class OutOfStock extends Error {}

/** Turns a domain error into an answer. */
@Catch(OutOfStock)
class OutOfStockFilter implements ExceptionFilter {
  catch(_error: OutOfStock, _host: ArgumentsHost): unknown {
    return { outOfStock: true };
  }
}

@Channel('doc:{id}', { presence: true, whispers: true, history: { size: 10 } })
class DocChannel {
  constructor(private readonly realtime: RealtimeService) {}

  canJoin(client: RealtimeConnection): boolean {
    return client.userId !== 'mallory';
  }

  @OnMessage('note:add')
  async add(
    @Payload() note: NoteDto,
    @ConnectedClient() client: RealtimeConnection,
    @ChannelName() channel: string,
  ): Promise<{ offset: number | undefined }> {
    const { envelope } = await this.realtime.broadcastToChannel(channel, {
      type: 'note:added',
      payload: { text: note.text },
      sender: client.userId,
    });
    return { offset: envelope.offset };
  }

  @OnMessage('note:lock')
  @UseGuards(EditorGuard)
  @UseInterceptors(StampInterceptor)
  lock(): string {
    return 'locked';
  }

  @OnMessage('note:order')
  @UseFilters(OutOfStockFilter)
  order(): never {
    throw new OutOfStock();
  }
}

/** Greets each connection, to show the connect hooks run for kit clients too. */
@Injectable()
class Greeter implements OnRealtimeConnect {
  constructor(private readonly realtime: RealtimeService) {}

  async onRealtimeConnect(client: RealtimeConnection): Promise<void> {
    await this.realtime.sendToConnection(client.id, { type: 'hello', payload: { user: client.userId } });
  }
}

@Module({
  imports: [
    RealtimeModule.forRoot({
      path: '/live',
      validation: true,
      rateLimit: { limit: 20, windowMs: 60_000 },
      allowedOrigins: ['https://app.example'],
      // Tokens are "token-<user>"; anything else is refused.
      authenticate: (request) => {
        const token = /bearer\.token-([a-z]+)/.exec(String(request.headers['sec-websocket-protocol']))?.[1];
        return token === undefined ? null : { userId: token, metadata: { role: 'reader' } };
      },
    }),
  ],
  providers: [DocChannel, Greeter],
})
class DocsModule {}

const TRANSPORTS: RealtimeTransport[] = ['in-process', 'socket'];

describe.each(TRANSPORTS)('the testing kit, %s', (transport) => {
  let rt: RealtimeTesting;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [DocsModule] }).compile();
    rt = await RealtimeTesting.create(moduleRef, { transport });
  });

  afterEach(async () => {
    await rt.close();
  });

  it('connects as a user without the authenticator, and runs the connect hooks', async () => {
    const alice = await rt.connect({ userId: 'alice', metadata: { role: 'editor' } });
    expect(alice.userId).toBe('alice');
    expect(alice.connectionId).toEqual(expect.any(String));
    await alice.expectMessage('hello', { user: 'alice' });
  });

  it('runs the authenticator on a token, and reports a refused handshake with its status', async () => {
    const bob = await rt.connect({ token: 'token-bob' });
    expect(bob.userId).toBe('bob');
    await bob.expectMessage('hello', { user: 'bob' });
    const refused = await rt.connect({ token: 'forged' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RealtimeTestError);
    expect(refused).toMatchObject({ code: 'HANDSHAKE_REFUSED', status: 401 });
  });

  it('admits no handshake on a ticket it did not issue (the header means nothing in production)', async () => {
    await expect(rt.connect({ headers: { 'x-realtime-test-ticket': 'guessed' } })).rejects.toMatchObject({
      code: 'HANDSHAKE_REFUSED',
      status: 401,
    });
  });

  it('applies the origin check to the handshake', async () => {
    await expect(rt.connect({ userId: 'eve', headers: { origin: 'https://evil.example' } })).rejects.toMatchObject({
      code: 'HANDSHAKE_REFUSED',
      status: 403,
    });
    await expect(rt.connect({ userId: 'eve', headers: { origin: 'https://app.example' } })).resolves.toBeDefined();
  });

  it('subscribes with join authorization: the subscribed payload, or the refusal code', async () => {
    const alice = await rt.connect({ userId: 'alice' });
    const subscribed = await alice.subscribe('doc:1');
    expect(subscribed).toMatchObject({ memberCount: 1, members: [{ userId: 'alice' }], offset: 0 });
    const mallory = await rt.connect({ userId: 'mallory' });
    await expect(mallory.subscribe('doc:1')).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('routes a request to its handler through the validation pipe; the ack is the return value', async () => {
    const alice = await rt.connect({ userId: 'alice' });
    await alice.subscribe('doc:1');
    await expect(alice.request('note:add', { text: 'hi' }, { channel: 'doc:1' })).resolves.toEqual({ offset: 1 });
    await alice.expectMessage('note:added', { text: 'hi' }, { channel: 'doc:1' });
    await rt.expectBroadcast('doc:1', 'note:added', { text: 'hi' });
    const invalid = await alice
      .request('note:add', { text: 'x'.repeat(21) }, { channel: 'doc:1' })
      .catch((error: unknown) => error);
    expect(invalid).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('runs guards and interceptors', async () => {
    const reader = await rt.connect({ userId: 'rita', metadata: { role: 'reader' } });
    const editor = await rt.connect({ userId: 'ed', metadata: { role: 'editor' } });
    await Promise.all([reader.subscribe('doc:1'), editor.subscribe('doc:1')]);
    await expect(reader.request('note:lock', undefined, { channel: 'doc:1' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(editor.request('note:lock', undefined, { channel: 'doc:1' })).resolves.toEqual({ stamped: 'locked' });
  });

  it('runs exception filters', async () => {
    const alice = await rt.connect({ userId: 'alice' });
    await alice.subscribe('doc:1');
    await expect(alice.request('note:order', undefined, { channel: 'doc:1' })).resolves.toEqual({ outOfStock: true });
  });

  it('applies the rate limit to its frames', async () => {
    const alice = await rt.connect({ userId: 'alice' });
    const answers = await Promise.allSettled(
      Array.from({ length: 25 }, () => alice.request('note:add', { text: 'x' }, { channel: 'doc:1' })),
    );
    const codes = answers.map((answer) =>
      answer.status === 'rejected' ? (answer.reason as RealtimeTestError).code : 'ok',
    );
    expect(codes).toContain('RATE_LIMITED');
  });

  it('answers an unknown message type with its error code', async () => {
    const alice = await rt.connect({ userId: 'alice' });
    await expect(alice.request('nope', {})).rejects.toMatchObject({ code: 'UNKNOWN_TYPE' });
  });

  it('relays whispers to the other members, and announces presence', async () => {
    const alice = await rt.connect({ userId: 'alice', info: { name: 'Alice' } });
    const bob = await rt.connect({ userId: 'bob' });
    await alice.subscribe('doc:7');
    await bob.subscribe('doc:7');
    await alice.expectPresence('doc:7', { joins: ['bob'] });
    await bob.whisper('doc:7', 'typing', { on: true });
    const whisper = await alice.expectWhisper('doc:7', 'typing', { on: true });
    expect(whisper.sender).toBe('bob');
    await bob.expectNoMessage('whisper');
    await expect(bob.presence('doc:7')).resolves.toMatchObject({ count: 2 });
    await bob.close();
    await alice.expectPresence('doc:7', { leaves: ['bob'] });
  });

  it('reads history', async () => {
    const alice = await rt.connect({ userId: 'alice' });
    await alice.subscribe('doc:2');
    await alice.request('note:add', { text: 'one' }, { channel: 'doc:2' });
    await alice.request('note:add', { text: 'two' }, { channel: 'doc:2' });
    const page = await alice.history('doc:2', { since: 1 });
    expect(page.messages).toEqual([expect.objectContaining({ type: 'note:added', payload: { text: 'two' } })]);
  });

  it('sees what the service sends, and fails an expectation with what did arrive', async () => {
    const alice = await rt.connect({ userId: 'alice' });
    await alice.expectMessage('hello');
    await rt.app.get(RealtimeService).sendToUser('alice', { type: 'notification', payload: { n: 1 } });
    await alice.expectMessage('notification', (payload: { n: number }) => payload.n === 1);
    await rt.app.get(RealtimeService).sendToUser('alice', { type: 'notification', payload: { n: 2 } });
    const failure = await alice.expectMessage('notification', { n: 3 }, { timeoutMs: 50 }).then(
      () => 'resolved',
      (error: unknown) => (error as Error).message,
    );
    expect(failure).toContain('Expected a notification message with a payload containing {"n":3}');
    expect(failure).toContain('notification {"n":2}');
    await expect(alice.expectNoMessage('notification')).rejects.toThrow('Expected no notification message');
  });

  it('tells when the server closes the connection', async () => {
    const alice = await rt.connect({ userId: 'alice' });
    await rt.app.get(RealtimeService).disconnect({ userId: 'alice' }, { code: 4001, reason: 'bye' });
    await expect(alice.expectClosed(4001)).resolves.toEqual({ code: 4001, reason: 'bye' });
    await expect(alice.expectMessage('anything')).rejects.toThrow('the connection closed (code 4001, "bye")');
  });
});

/** How many resources of each kind keep the process alive. */
function liveResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

/** Whether `now` holds nothing more, of any kind, than `before` did. */
function nothingMore(before: Map<string, number>, now: Map<string, number>): boolean {
  return [...now].every(([kind, count]) => count <= (before.get(kind) ?? 0));
}

describe.each(TRANSPORTS)('the testing kit, closing on %s', (transport) => {
  it('leaves nothing open once closed: no socket, server or timer of its own', async () => {
    const before = liveResources();
    const moduleRef = await Test.createTestingModule({ imports: [DocsModule] }).compile();
    const rt = await RealtimeTesting.create(moduleRef, { transport });
    const alice = await rt.connect({ userId: 'alice' });
    const bob = await rt.connect({ userId: 'bob' });
    await alice.subscribe('doc:1');
    await bob.subscribe('doc:1');
    await alice.close(); // a client closed by the test, the other by the kit
    await rt.close();
    // Closed handles leave at the next turns of the loop: wait for it, then compare.
    expect(await waitUntil(() => nothingMore(before, liveResources()), 5000)).toBe(true);
  });
});
