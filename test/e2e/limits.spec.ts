import type { IncomingMessage } from 'node:http';
import { connect as connectTcp } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import {
  Channel,
  ErrorCode,
  type OnRealtimeDisconnect,
  type RealtimeConnection,
  RealtimeModule,
  RealtimeService,
  type RealtimeModuleOptions,
  getHandshakeToken,
  type RealtimeIdentity,
} from 'nestjs-realtime';
import { type TestApp, appAroundSuite } from '../support/create-app.js';
import { EventLog } from '../support/event-log.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { redisInstancesAroundSuite } from '../support/suites.js';
import { type ConnectOptions, TestClient } from '../support/test-client.js';
import { waitUntil } from '../support/wait-until.js';
import { describeNeeding } from '../support/programs.js';

@Channel('room:{id}', { public: true })
class RoomChannel {}

const hangs = new EventLog<IncomingMessage>();

/** Like `tokenIsUserId`, but `hang` never answers (and is recorded), to hold a handshake open. */
function hangingAuthenticator(request: IncomingMessage): RealtimeIdentity | null | Promise<never> {
  if (getHandshakeToken(request) !== 'hang') {
    return tokenIsUserId(request);
  }
  hangs.push(request);
  return new Promise<never>(() => undefined);
}

/** Records closed connections: their admission has ended by the time the hook runs. */
@Injectable()
class Departures implements OnRealtimeDisconnect {
  static readonly log = new EventLog<string>();
  onRealtimeDisconnect(client: RealtimeConnection): void {
    Departures.log.push(client.id);
  }
}

/** Closes a client and waits until the server has let it go. */
async function leave(client: TestClient): Promise<void> {
  await client.close();
  await Departures.log.waitFor((id) => id === client.connectionId);
}

/** An app with these options, started and closed around the tests of one `describe`. */
function appWith(options: RealtimeModuleOptions): { readonly url: string; readonly server: TestApp } {
  @Module({ imports: [RealtimeModule.forRoot(options)], providers: [RoomChannel, Departures] })
  class LimitsModule {}
  const holder = appAroundSuite(LimitsModule);
  return {
    get server() {
      return holder.server;
    },
    get url() {
      return holder.server.url;
    },
  };
}

const open: TestClient[] = [];

async function connect(url: string, token: string, options: ConnectOptions = {}): Promise<TestClient> {
  const client = await TestClient.connect(url, { token, ...options });
  open.push(client);
  return client;
}

/** Sends a raw upgrade request that ws refuses (unsupported version) and resolves to the status line. */
function badUpgrade(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connectTcp(Number(port), hostname, () => {
      socket.write(
        'GET /realtime?token=x HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n\r\n',
      );
    });
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer.split('\r\n')[0]));
    socket.on('error', reject);
  });
}

afterEach(async () => {
  // Wait until the server has let every client go, so caps start from zero in the next test.
  await Promise.all(open.splice(0).map((client) => leave(client)));
});

describe('connection caps', () => {
  describe('in total', () => {
    const app = appWith({
      authenticate: hangingAuthenticator,
      maxConnections: 2,
      maxConnectionsPerIp: 0,
      handshakeTimeoutMs: 200,
    });

    it('refuses past maxConnections with 503 before the upgrade, and admits again once one leaves', async () => {
      const first = await connect(app.url, 'a');
      await connect(app.url, 'b');
      expect(await TestClient.refusal(app.url, { token: 'c' })).toMatchObject({
        status: 503,
        body: { statusCode: 503, message: 'Server is at its connection limit', error: 'Service Unavailable' },
      });
      await leave(first);
      await connect(app.url, 'c');
    });

    it('counts handshakes in progress, and frees their place when they time out with 408', async () => {
      await connect(app.url, 'a');
      const hanging = TestClient.refusal(app.url, { token: 'hang' });
      // Being authenticated, the hanging handshake holds the second place until it times out.
      await hangs.waitFor(() => true);
      expect((await TestClient.refusal(app.url, { token: 'b' })).status).toBe(503);
      expect(await hanging).toMatchObject({
        status: 408,
        body: { statusCode: 408, message: 'Handshake timeout', error: 'Request Timeout' },
      });
      expect(app.server.logger.find('warn', 'Handshake timed out after 200 ms')).toBeDefined();
      await connect(app.url, 'b');
    });

    it('frees the place of a handshake ws refuses', async () => {
      await connect(app.url, 'a');
      expect(await badUpgrade(app.url)).toBe('HTTP/1.1 400 Bad Request');
      await connect(app.url, 'b');
    });
  });

  describe('per IP address', () => {
    const app = appWith({ authenticate: tokenIsUserId, maxConnectionsPerIp: 2 });

    it('refuses past maxConnectionsPerIp with 429', async () => {
      await connect(app.url, 'a');
      const second = await connect(app.url, 'b');
      expect(await TestClient.refusal(app.url, { token: 'c' })).toMatchObject({
        status: 429,
        body: { statusCode: 429, message: 'Too many connections from this address', error: 'Too Many Requests' },
      });
      await leave(second);
      await connect(app.url, 'c');
    });
  });

  describe('per IP address behind a trusted proxy', () => {
    const app = appWith({ authenticate: tokenIsUserId, maxConnectionsPerIp: 1, trustProxy: 1 });
    const via = (client: string) => ({ headers: { 'X-Forwarded-For': client } });

    it('counts the address the proxy saw, not the proxy, and shows it as remoteAddress', async () => {
      const first = await connect(app.url, 'a', via('203.0.113.7'));
      // A client may prepend anything: only the entry the trusted proxy appended counts.
      await connect(app.url, 'b', via('198.51.100.1, 203.0.113.8'));
      expect((await TestClient.refusal(app.url, { token: 'c', ...via('10.0.0.1, 203.0.113.7') })).status).toBe(429);
      const realtime = app.server.app.get(RealtimeService);
      expect(realtime.getConnection(first.connectionId)?.remoteAddress).toBe('203.0.113.7');
    });
  });

  describe('per user', () => {
    const app = appWith({ authenticate: tokenIsUserId, maxConnectionsPerUser: 2 });

    it('refuses a user past maxConnectionsPerUser with 429, not other users', async () => {
      const phone = await connect(app.url, 'alice');
      await connect(app.url, 'alice');
      expect(await TestClient.refusal(app.url, { token: 'alice' })).toMatchObject({
        status: 429,
        body: { statusCode: 429, message: 'Too many connections for this user', error: 'Too Many Requests' },
      });
      await connect(app.url, 'bob');
      await leave(phone);
      await connect(app.url, 'alice');
    });
  });

  describeNeeding('redis-server')('per user, across instances on one Redis', () => {
    const suite = redisInstancesAroundSuite(2, { authenticate: tokenIsUserId, maxConnectionsPerUser: 2 }, []);

    it('holds maxConnectionsPerUser for the whole cluster, and admits again once a connection closed', async () => {
      const phone = await suite.connect(0, 'alice');
      await suite.connect(1, 'alice');
      for (const instance of [0, 1]) {
        expect(await TestClient.refusal(suite.instance(instance).url, { token: 'alice' })).toMatchObject({
          status: 429,
          body: { message: 'Too many connections for this user' },
        });
      }
      await suite.connect(1, 'bob');
      await phone.close();
      // The count leaves Redis as the connection's cleanup ends, just after the client saw the close.
      expect(await waitUntil(async () => (await suite.realtime(1).countConnections('alice')) === 1, 5000)).toBe(true);
      await suite.connect(1, 'alice');
    });
  });

  describe('channels per connection', () => {
    const app = appWith({ authenticate: tokenIsUserId, maxChannelsPerConnection: 2 });

    it('refuses a subscribe past maxChannelsPerConnection with FORBIDDEN', async () => {
      const alice = await connect(app.url, 'alice');
      await alice.subscribe('room:1');
      await alice.subscribe('room:2');
      expect((await alice.subscribe('room:3')).error).toEqual({
        code: ErrorCode.FORBIDDEN,
        message: 'A connection may be in at most 2 channels',
      });
      await alice.request({ type: 'unsubscribe', channel: 'room:1' });
      expect((await alice.subscribe('room:3')).type).toBe('subscribed');
    });
  });
});

describe('origin check', () => {
  describe('by default', () => {
    const app = appWith({ authenticate: tokenIsUserId });

    it('accepts a page from the same host and port', async () => {
      await connect(app.url, 'alice', { headers: { Origin: app.url } });
    });

    it('refuses a page from another origin with 403 (cross-site WebSocket hijacking)', async () => {
      const port = new URL(app.url).port;
      for (const origin of ['https://evil.example', `http://127.0.0.2:${port}`, 'http://127.0.0.1:1', 'null']) {
        expect(await TestClient.refusal(app.url, { token: 'alice', headers: { Origin: origin } })).toMatchObject({
          status: 403,
          body: { statusCode: 403, message: 'Origin not allowed', error: 'Forbidden' },
        });
      }
    });

    it('accepts clients that send no Origin (not browsers)', async () => {
      await connect(app.url, 'alice');
    });
  });

  describe('with allowedOrigins and allowMissingOrigin: false', () => {
    const app = appWith({
      authenticate: tokenIsUserId,
      allowedOrigins: ['https://app.example.com'],
      allowMissingOrigin: false,
    });

    it('accepts exactly the listed origins', async () => {
      await connect(app.url, 'alice', { headers: { Origin: 'https://app.example.com' } });
      for (const origin of ['https://app.example.com:8443', 'http://app.example.com', app.url]) {
        expect((await TestClient.refusal(app.url, { token: 'alice', headers: { Origin: origin } })).status).toBe(403);
      }
    });

    it('refuses a handshake without Origin with 403', async () => {
      expect(await TestClient.refusal(app.url, { token: 'alice' })).toMatchObject({
        status: 403,
        body: { statusCode: 403, message: 'An Origin header is required', error: 'Forbidden' },
      });
    });
  });

  describe('with an allowedOrigins function', () => {
    const app = appWith({
      authenticate: tokenIsUserId,
      allowedOrigins: (origin) => {
        if (origin === 'https://throws.example') {
          throw new Error('checker exploded');
        }
        return origin.endsWith('.trusted.example');
      },
    });

    it('asks the function, and refuses when it throws', async () => {
      await connect(app.url, 'alice', { headers: { Origin: 'https://a.trusted.example' } });
      expect((await TestClient.refusal(app.url, { headers: { Origin: 'https://other.example' } })).status).toBe(403);
      expect((await TestClient.refusal(app.url, { headers: { Origin: 'https://throws.example' } })).status).toBe(403);
    });
  });
});

describe('permessage-deflate', () => {
  const app = appWith({ authenticate: tokenIsUserId, perMessageDeflate: true, maxPayloadBytes: 1024 });

  it('works when on, and applies maxPayloadBytes to the inflated frame', async () => {
    const alice = await connect(app.url, 'alice', { perMessageDeflate: true });
    expect(alice.socket.extensions).toContain('permessage-deflate');
    expect((await alice.subscribe('room:1')).type).toBe('subscribed');
    // Broadcasts take the plain send path here (a pre-built frame would overtake ws's compression queue).
    const realtime = app.server.app.get(RealtimeService);
    await realtime.broadcastToChannel('room:1', { type: 'news', payload: 'z'.repeat(2000) });
    expect((await alice.nextOfType('news')).payload).toBe('z'.repeat(2000));
    // 4 KiB of one letter compresses to a few bytes on the wire, but inflates past the 1 KiB limit.
    alice.send(JSON.stringify({ type: 'ping', payload: 'a'.repeat(4096) }));
    expect((await alice.closed).code).toBe(1009);
  });
});
