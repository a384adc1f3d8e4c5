import type { IncomingMessage } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ForbiddenException,
  HttpException,
  HttpStatus,
  Injectable,
  Module,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import { IsString } from 'class-validator';
import {
  Channel,
  ErrorCode,
  FailureCode,
  LocalBroker,
  OnMessage,
  type OnRealtimeConnect,
  type OnRealtimeError,
  type OnRealtimeHeartbeatTimeout,
  Payload,
  RateLimitedException,
  RealtimeAuthError,
  RealtimeBrokerError,
  type RealtimeConnection,
  RealtimeConnectionError,
  RealtimeException,
  type RealtimeFailure,
  type RealtimeIdentity,
  RealtimeMessageError,
  RealtimeModule,
  type RealtimeModuleOptions,
  RealtimeRateLimitError,
  RealtimeService,
  RealtimeWhisperError,
  getHandshakeToken,
} from 'nestjs-realtime';
import { type TestApp, startApp } from '../support/create-app.js';
import { EventLog } from '../support/event-log.js';
import { type ConnectOptions, TestClient } from '../support/test-client.js';
import { WebSocket } from 'ws';

/**
 * The token is the user id, except: `forbidden` (403 ForbiddenException), `slow-down` (429 with a retryAfter in the
 * response), `limited` (RateLimitedException), `throws` (a plain Error: 401), `teapot` (418, no error code).
 */
function authenticate(request: IncomingMessage): RealtimeIdentity | null {
  const token = getHandshakeToken(request);
  switch (token) {
    case undefined:
      return null;
    case 'forbidden':
      throw new ForbiddenException('Your account is suspended');
    case 'slow-down':
      throw new HttpException({ message: 'Too many logins', retryAfter: 30 }, HttpStatus.TOO_MANY_REQUESTS);
    case 'limited':
      throw new RateLimitedException(4500, 'Login rate exceeded');
    case 'throws':
      throw new Error('database down');
    case 'teapot':
      throw new HttpException('I am a teapot', 418);
    default:
      return { userId: token };
  }
}

class NoteDto {
  @IsString()
  text!: string;
}

@Channel('room:{id}', { public: true, whispers: true })
class RoomChannel {
  @OnMessage('note:add')
  @UsePipes(new ValidationPipe())
  add(@Payload() note: NoteDto): string {
    return note.text;
  }

  @OnMessage('note:crash')
  crash(): never {
    throw new Error('handler exploded');
  }
}

/** Refuses some users at connect time, the way an app checks a ban list after the handshake. */
@Injectable()
class BanList implements OnRealtimeConnect {
  onRealtimeConnect(client: RealtimeConnection): void {
    if (client.userId === 'banned') {
      throw new ForbiddenException('Banned from chat');
    }
    if (client.userId === 'spammer') {
      throw new RealtimeException(ErrorCode.RATE_LIMITED, 'Slow down');
    }
    if (client.userId === 'unlucky') {
      throw new Error('ban list unreachable');
    }
  }
}

/** Keeps `sleepy` connections through one heartbeat timeout; records every call. */
@Injectable()
class SleepyClients implements OnRealtimeHeartbeatTimeout {
  static readonly calls = new EventLog<{ userId: string | null; silentMs: number }>();
  readonly #spared = new Set<string>();

  async onRealtimeHeartbeatTimeout(client: RealtimeConnection, info: { silentMs: number }): Promise<boolean> {
    await Promise.resolve();
    SleepyClients.calls.push({ userId: client.userId, silentMs: info.silentMs });
    if (client.userId === 'sleepy' && !this.#spared.has(client.id)) {
      this.#spared.add(client.id);
      return false;
    }
    return true;
  }
}

/** Collects every failure; one hook that throws must not stop the other. */
@Injectable()
class FailureCollector implements OnRealtimeError {
  static readonly failures = new EventLog<RealtimeFailure>();
  onRealtimeError(failure: RealtimeFailure): void {
    FailureCollector.failures.push(failure);
  }
}

@Injectable()
class BrokenReporter implements OnRealtimeError {
  onRealtimeError(): void {
    throw new Error('error tracker down');
  }
}

/** A broker whose subscriptions to `user:flaky` fail: a background broker failure. */
class FlakyBroker extends LocalBroker {
  override subscribe(topic: string): Promise<void> {
    return topic === 'user:flaky' ? Promise.reject(new Error('subscription refused')) : super.subscribe(topic);
  }
}

const baseOptions: RealtimeModuleOptions = {
  authenticate,
  heartbeatIntervalMs: 20,
  heartbeatTimeoutMs: 300,
  maxConnectionsPerUser: 2,
  allowMissingOrigin: true,
  rateLimit: { limit: 5, windowMs: 60_000, closeAfter: 0 },
  backpressure: { maxBufferedBytes: 64 * 1024, volatileBufferedBytes: 16 * 1024 },
};

function moduleWith(options: RealtimeModuleOptions) {
  @Module({
    imports: [RealtimeModule.forRoot({ ...baseOptions, ...options })],
    providers: [RoomChannel, BanList, SleepyClients, BrokenReporter, FailureCollector],
  })
  class HooksModule {}
  return HooksModule;
}

/** The first failure of a class and code (and matching `where`), collected already or to come. */
function failure<T extends RealtimeFailure>(
  type: abstract new (...args: never[]) => T,
  code: string,
  where: (failure: T) => boolean = () => true,
): Promise<T> {
  return FailureCollector.failures.waitFor(
    (candidate) => candidate instanceof type && candidate.code === code && where(candidate),
  ) as Promise<T>;
}

describe('hooks that decide, and one place for errors', () => {
  let server: TestApp;
  const open: TestClient[] = [];

  async function connect(user: string, options: ConnectOptions = {}): Promise<TestClient> {
    const client = await TestClient.connect(server.url, { token: user, ...options });
    open.push(client);
    return client;
  }

  beforeAll(async () => {
    server = await startApp(moduleWith({ broker: new FlakyBroker() }));
  });

  afterEach(async () => {
    for (const client of open.splice(0)) {
      client.resumeReading();
      await client.close();
    }
  });

  afterAll(async () => {
    await server.app.close();
  });

  describe('an authenticator that throws an HttpException', () => {
    it('refuses the handshake with its status and its response as a JSON body, before the upgrade', async () => {
      expect(await TestClient.refusal(server.url, { token: 'forbidden' })).toMatchObject({
        status: 403,
        body: { statusCode: 403, message: 'Your account is suspended', error: 'Forbidden' },
      });
      const refused = await failure(RealtimeAuthError, ErrorCode.FORBIDDEN);
      expect(refused).toMatchObject({ kind: 'auth', status: 403, client: undefined });
      expect(refused.cause).toBeInstanceOf(ForbiddenException);
      expect(refused.remoteAddress).toContain('127.0.0.1');
    });

    it('sends Retry-After from a retryAfter in the response, or from a RateLimitedException', async () => {
      const slow = await TestClient.refusal(server.url, { token: 'slow-down' });
      expect(slow).toMatchObject({ status: 429, body: { message: 'Too many logins', retryAfter: 30 } });
      expect(slow.headers['retry-after']).toBe('30');
      const limited = await TestClient.refusal(server.url, { token: 'limited' });
      expect(limited).toMatchObject({
        status: 429,
        body: { statusCode: 429, message: 'Login rate exceeded', code: 'RATE_LIMITED' },
      });
      expect(limited.headers['retry-after']).toBe('5');
    });

    it('keeps other statuses, and answers anything else with 401', async () => {
      expect(await TestClient.refusal(server.url, { token: 'teapot' })).toMatchObject({
        status: 418,
        body: { statusCode: 418, message: 'I am a teapot' },
      });
      expect((await failure(RealtimeAuthError, FailureCode.HANDSHAKE_REFUSED)).status).toBe(418);
      expect(await TestClient.refusal(server.url, { token: 'throws' })).toMatchObject({
        status: 401,
        body: { statusCode: 401, message: 'Unauthorized' },
      });
      const unauthorized = await failure(RealtimeAuthError, ErrorCode.UNAUTHORIZED, (f) => f.cause !== undefined);
      expect((unauthorized.cause as Error).message).toBe('database down');
    });
  });

  describe('a connect hook that throws', () => {
    it('closes the new connection with 4000 + the status of an HttpException, its message as the reason', async () => {
      const banned = await connect('banned');
      expect(await banned.closed).toEqual({ code: 4403, reason: 'Banned from chat' });
      const spammer = await connect('spammer');
      expect(await spammer.closed).toEqual({ code: 4429, reason: 'Slow down' });
      const refused = await failure(
        RealtimeConnectionError,
        FailureCode.CONNECT_HOOK_FAILED,
        (f) => f.closeCode === 4403,
      );
      expect(refused.client?.userId).toBe('banned');
      expect(refused.cause).toBeInstanceOf(ForbiddenException);
    });

    it('closes with 1011 for an unexpected error, and logs it', async () => {
      const unlucky = await connect('unlucky');
      expect(await unlucky.closed).toEqual({ code: 1011, reason: 'Connect hook failed' });
      expect(server.logger.find('error', 'BanList.onRealtimeConnect failed')).toBeDefined();
    });
  });

  describe('OnRealtimeError', () => {
    it('receives the refusals of handshakes the module decides: caps and origins', async () => {
      await connect('twice');
      await connect('twice');
      expect((await TestClient.refusal(server.url, { token: 'twice' })).status).toBe(429);
      const cap = await failure(RealtimeRateLimitError, FailureCode.TOO_MANY_CONNECTIONS);
      expect(cap).toMatchObject({ kind: 'rate_limit', status: 429 });
      const origin = await TestClient.refusal(server.url, { token: 'alice', headers: { Origin: 'https://evil.test' } });
      expect(origin.status).toBe(403);
      expect(await failure(RealtimeConnectionError, FailureCode.ORIGIN_REFUSED)).toMatchObject({ status: 403 });
    });

    it('receives refused and failed frames with the connection and the cause', async () => {
      const alice = await connect('alice');
      await alice.subscribe('room:1');
      expect((await alice.request({ type: 'note:add', channel: 'room:1', payload: { text: 7 } })).error?.code).toBe(
        ErrorCode.VALIDATION_FAILED,
      );
      const invalid = await failure(RealtimeMessageError, ErrorCode.VALIDATION_FAILED);
      expect(invalid.client?.id).toBe(alice.connectionId);
      expect((await alice.request({ type: 'note:crash', channel: 'room:1' })).error?.code).toBe(ErrorCode.INTERNAL);
      const crashed = await failure(RealtimeMessageError, ErrorCode.INTERNAL);
      expect((crashed.cause as Error).message).toBe('handler exploded');
      expect(crashed.message).toBe('Internal error');
      alice.send('not json');
      expect((await failure(RealtimeMessageError, ErrorCode.BAD_REQUEST)).client?.id).toBe(alice.connectionId);
    });

    it('tells whisper refusals apart', async () => {
      const bob = await connect('bob');
      expect((await bob.request({ type: 'whisper', channel: 'room:9', event: 'typing' })).error?.code).toBe(
        ErrorCode.NOT_SUBSCRIBED,
      );
      const whisper = await failure(RealtimeWhisperError, ErrorCode.NOT_SUBSCRIBED);
      expect(whisper).toMatchObject({ kind: 'whisper' });
    });

    it('receives rate limits with the connection', async () => {
      const carol = await connect('carol');
      for (let i = 0; i < 5; i++) {
        await carol.request({ type: 'ping' });
      }
      expect((await carol.request({ type: 'ping' })).error?.code).toBe(ErrorCode.RATE_LIMITED);
      const limited = await failure(RealtimeRateLimitError, ErrorCode.RATE_LIMITED);
      expect(limited.client?.userId).toBe('carol');
    });

    it('receives slow-consumer closes', async () => {
      const realtime = server.app.get(RealtimeService);
      const slow = await connect('slowpoke');
      slow.stopReading();
      const payload = 'x'.repeat(32 * 1024);
      let sent = 0;
      while (realtime.getConnection(slow.connectionId)?.bufferedBytes !== undefined && sent < 2000) {
        await realtime.sendToConnection(slow.connectionId, { type: 'item', payload });
        sent++;
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (FailureCollector.failures.events.some((f) => f.code === FailureCode.SLOW_CONSUMER)) {
          break;
        }
      }
      const closed = await failure(RealtimeConnectionError, FailureCode.SLOW_CONSUMER);
      expect(closed).toMatchObject({ closeCode: 4000 });
      expect(closed.client?.id).toBe(slow.connectionId);
    });

    it('receives broker failures the module handles in the background', async () => {
      await connect('flaky');
      const failed = await failure(RealtimeBrokerError, FailureCode.BROKER_FAILED);
      expect(failed.message).toContain('user:flaky');
      expect((failed.cause as Error).message).toBe('subscription refused');
    });

    it('survives a hook that throws: it is logged, and the other hooks still run', async () => {
      const dave = await connect('dave');
      dave.send('{');
      await failure(RealtimeMessageError, ErrorCode.BAD_REQUEST, (f) => f.client?.id === dave.connectionId);
      expect(server.logger.find('error', 'BrokenReporter.onRealtimeError failed')).toBeDefined();
    });
  });

  describe('the heartbeat-timeout hook', () => {
    it('is asked before a silent connection is closed with 4001, and can keep it for another period', async () => {
      // Neither answers the server's pings: both go silent.
      const sleepy = await connect('sleepy', { autoPong: false });
      const normal = await connect('normal', { autoPong: false });
      const normalCall = await SleepyClients.calls.waitFor((call) => call.userId === 'normal');
      expect(normalCall.silentMs).toBeGreaterThan(300);
      expect(await normal.closed).toEqual({ code: 4001, reason: 'Heartbeat timeout' });
      expect((await failure(RealtimeConnectionError, FailureCode.HEARTBEAT_TIMEOUT)).closeCode).toBe(4001);

      // Spared once: it stays open until it times out again, and then the hook lets it close.
      const sleepyCalls = () => SleepyClients.calls.events.filter((call) => call.userId === 'sleepy');
      await SleepyClients.calls.waitFor(() => sleepyCalls().length === 1);
      expect(sleepy.socket.readyState).toBe(WebSocket.OPEN);
      await SleepyClients.calls.waitFor(() => sleepyCalls().length === 2);
      expect(await sleepy.closed).toEqual({ code: 4001, reason: 'Heartbeat timeout' });
      expect(sleepyCalls().every((call) => call.silentMs > 300)).toBe(true);
    });
  });
});

describe('closeUnauthorized with an authenticator that throws an HttpException', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp(moduleWith({ closeUnauthorized: true }));
  });

  afterAll(async () => {
    await server.app.close();
  });

  it('upgrades and closes with 4000 + the status, which browsers can read', async () => {
    const forbidden = TestClient.open(server.url, { token: 'forbidden' });
    expect(await forbidden.closed).toEqual({ code: 4403, reason: 'Forbidden' });
    const anonymous = TestClient.open(server.url, {});
    expect(await anonymous.closed).toEqual({ code: 4401, reason: 'Unauthorized' });
    const refused = await failure(RealtimeAuthError, ErrorCode.FORBIDDEN, (f) => f.closeCode === 4403);
    expect(refused.status).toBe(403);
  });
});
