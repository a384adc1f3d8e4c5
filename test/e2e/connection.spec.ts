import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import {
  Channel,
  type DisconnectInfo,
  type OnRealtimeConnect,
  type OnRealtimeDisconnect,
  type RealtimeConnection,
  RealtimeModule,
  RealtimeService,
} from 'nestjs-realtime';
import { PLATFORMS, type TestApp, startApp } from '../support/create-app.js';
import { EventLog } from '../support/event-log.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { TestClient } from '../support/test-client.js';

type HookEvent =
  | { kind: 'connect'; client: RealtimeConnection }
  | { kind: 'disconnect'; client: RealtimeConnection; info: DisconnectInfo };

@Injectable()
class ConnectionHooks implements OnRealtimeConnect, OnRealtimeDisconnect {
  static log = new EventLog<HookEvent>();

  onRealtimeConnect(client: RealtimeConnection): void {
    ConnectionHooks.log.push({ kind: 'connect', client });
  }

  async onRealtimeDisconnect(client: RealtimeConnection, info: DisconnectInfo): Promise<void> {
    await Promise.resolve();
    ConnectionHooks.log.push({ kind: 'disconnect', client, info });
  }
}

/** Fails for the user `doomed` only: its connection is closed; the hooks after it do not run for it. */
@Injectable()
class FailingHook implements OnRealtimeConnect {
  onRealtimeConnect(client: RealtimeConnection): void {
    if (client.userId === 'doomed') {
      throw new Error('hook exploded');
    }
  }
}

@Channel('room:{id}', { public: true })
class RoomChannel {}

@Module({
  imports: [
    RealtimeModule.forRoot({
      authenticate: tokenIsUserId,
      heartbeatIntervalMs: 20,
      heartbeatTimeoutMs: 1000, // generous: a busy CI machine must not time out live clients
      maxPayloadBytes: 1024,
      drainTimeoutMs: 100,
    }),
  ],
  providers: [FailingHook, ConnectionHooks, RoomChannel],
})
class ConnectionModule {}

function closeOf(client: RealtimeConnection): (event: HookEvent) => boolean {
  return (event) => event.kind === 'disconnect' && event.client.id === client.id;
}

describe.each(PLATFORMS)('connections (%s)', (platform) => {
  let server: TestApp;
  const open: TestClient[] = [];

  async function connect(token: string, options: Parameters<typeof TestClient.connect>[1] = {}) {
    const client = await TestClient.connect(server.url, { token, ...options });
    open.push(client);
    return client;
  }

  beforeAll(async () => {
    server = await startApp(ConnectionModule, platform);
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await server.app.close();
  });

  describe('handshake', () => {
    it.each([
      ['no token', undefined],
      ['a refused token', 'bad'],
      ['an authenticator that throws', 'throw'],
    ])('answers HTTP 401 before the upgrade to %s', async (_case, token) => {
      const refusal = await TestClient.refusal(server.url, { token });
      expect(refusal.status).toBe(401);
    });

    it('accepts a Bearer token in the Authorization header', async () => {
      const client = await TestClient.connect(server.url, { headers: { Authorization: 'Bearer dana' } });
      open.push(client);
      expect(client.welcome.payload).toMatchObject({ userId: 'dana' });
      const lower = await TestClient.connect(server.url, { headers: { authorization: 'bearer eve' } });
      open.push(lower);
      expect(lower.welcome.payload).toMatchObject({ userId: 'eve' });
    });

    it('welcomes with the connection id, the user and the heartbeat interval', async () => {
      const client = await connect('alice');
      expect(client.welcome).toEqual({
        type: 'system:welcome',
        timestamp: expect.any(Number),
        payload: { connectionId: expect.any(String), userId: 'alice', heartbeatMs: 20 },
      });
    });

    it('writes the 101 answer and the welcome to the socket together, in one write', async () => {
      const writes: string[][] = [];
      (server.app.getHttpServer() as Server).once('connection', (socket: Socket) => {
        const writev = socket._writev!.bind(socket);
        const write = socket._write.bind(socket);
        socket._writev = (chunks, done) => {
          writes.push(chunks.map(({ chunk }) => String(chunk)));
          writev(chunks, done);
        };
        socket._write = (chunk, encoding, done) => {
          writes.push([String(chunk)]);
          write(chunk, encoding, done);
        };
      });
      await connect('alice');
      expect(writes[0]).toEqual([
        expect.stringMatching(/^HTTP\/1\.1 101 /),
        expect.stringContaining('"type":"system:welcome"'),
      ]);
    });

    it('selects the realtime.v1 subprotocol when offered, and accepts clients offering none', async () => {
      const offered = await connect('alice');
      expect(offered.socket.protocol).toBe('realtime.v1');
      const none = await connect('alice', { protocols: [] });
      expect(none.socket.protocol).toBe('');
    });

    it('answers 404 to other paths when nothing else listens for upgrades', async () => {
      const refusal = await TestClient.refusal(server.url, { token: 'alice', path: '/elsewhere' });
      expect(refusal.status).toBe(404);
    });
  });

  describe('registry and hooks', () => {
    it('knows each connection: id, user, address, time, several devices per user', async () => {
      const realtime = server.app.get(RealtimeService);
      const phone = await connect('erin');
      const laptop = await connect('erin');
      const devices = realtime.getUserConnections('erin');
      expect(devices.map((client) => client.id).sort()).toEqual([phone.connectionId, laptop.connectionId].sort());
      const found = realtime.getConnection(phone.connectionId);
      expect(found).toMatchObject({ userId: 'erin', remoteAddress: expect.stringContaining('127.0.0.1') });
      expect(found?.connectedAt).toBeInstanceOf(Date);
      expect(found?.protocol).toBe('realtime.v1');
    });

    it('hands user code one read-only view per connection: no writes, no state changes, fields that follow it', async () => {
      const realtime = server.app.get(RealtimeService);
      const phone = await connect('fay');
      const view = realtime.getConnection(phone.connectionId)!;
      const hooked = await ConnectionHooks.log.waitFor(
        (event) => event.kind === 'connect' && event.client.id === phone.connectionId,
      );
      expect(hooked.client).toBe(view);
      expect(realtime.getUserConnections('fay')).toEqual([view]);
      for (const internal of ['deliver', 'terminate', 'close', 'hold', 'release', 'sendText', 'handling', 'view']) {
        expect(internal in view).toBe(false);
      }
      expect(() => Object.assign(view, { userId: 'mallory' })).toThrow(TypeError);
      expect(view.userId).toBe('fay');
      expect(view.channels).toEqual([]);
      await phone.subscribe('room:1');
      expect(view.channels).toEqual(['room:1']);
      expect(JSON.parse(JSON.stringify(view))).toMatchObject({
        id: phone.connectionId,
        userId: 'fay',
        channels: ['room:1'],
      });
    });

    it('closes the connection with 1011 when a connect hook throws, and logs it; later hooks do not run', async () => {
      const doomed = await connect('doomed');
      expect(await doomed.closed).toEqual({ code: 1011, reason: 'Connect hook failed' });
      expect(server.logger.find('error', 'FailingHook.onRealtimeConnect failed')).toBeDefined();
      const disconnected = await ConnectionHooks.log.waitFor(
        (event) => event.kind === 'disconnect' && event.client.id === doomed.connectionId,
      );
      expect(disconnected).toMatchObject({ info: { code: 1011 } });
      expect(
        ConnectionHooks.log.events.some((event) => event.kind === 'connect' && event.client.userId === 'doomed'),
      ).toBe(false);
    });

    it('calls connect and disconnect hooks with the connection', async () => {
      const client = await connect('frank');
      const connected = await ConnectionHooks.log.waitFor(
        (event) => event.kind === 'connect' && event.client.id === client.connectionId,
      );
      expect(connected.client.userId).toBe('frank');
      client.socket.close(4321, 'bye');
      const closed = await ConnectionHooks.log.waitFor(closeOf(connected.client));
      expect(closed).toMatchObject({ info: { code: 4321, reason: 'bye' } });
      expect(server.app.get(RealtimeService).getConnection(client.connectionId)).toBeUndefined();
    });
  });

  describe('heartbeat', () => {
    it('answers the ping control frame with pong', async () => {
      const client = await connect('alice');
      const pong = await client.request({ type: 'ping', id: 'p1' });
      expect(pong).toMatchObject({ type: 'pong', replyTo: 'p1', payload: { timestamp: expect.any(Number) } });
      // null until the connection answered a heartbeat ping, which may already have happened (every 20 ms here).
      const { rttMs } = pong.payload as { rttMs: number | null };
      expect(rttMs === null || rttMs >= 0).toBe(true);
    });

    it('answers ping with the round trip the last heartbeat ping measured', async () => {
      const client = await connect('alice');
      // The client answers the server's heartbeat pings by itself: once one was answered, the pong carries its rtt.
      await new Promise<void>((resolve) => client.socket.once('ping', () => resolve()));
      await new Promise<void>((resolve) => client.socket.once('ping', () => resolve()));
      const { payload } = await client.request({ type: 'ping' });
      expect((payload as { rttMs: unknown }).rttMs).toEqual(expect.any(Number));
      expect((payload as { rttMs: number }).rttMs).toBeGreaterThanOrEqual(0);
      expect(server.app.get(RealtimeService).getConnection(client.connectionId)?.rttMs).toEqual(expect.any(Number));
    });

    it('keeps connections that answer pings', async () => {
      const client = await connect('alice');
      const realtime = server.app.get(RealtimeService);
      // Several heartbeat intervals pass while the client keeps answering; it is still there afterwards.
      for (let round = 0; round < 5; round++) {
        await new Promise<void>((resolve) => client.socket.once('ping', () => resolve()));
      }
      expect(realtime.getConnection(client.connectionId)).toBeDefined();
    });

    it('closes a connection that stops answering with 4001', async () => {
      const client = await connect('gina', { autoPong: false });
      expect(await client.closed).toEqual({ code: 4001, reason: 'Heartbeat timeout' });
    });

    it('cuts a dead peer that does not even answer the close', async () => {
      const client = await connect('hank', { autoPong: false });
      const connected = await ConnectionHooks.log.waitFor(
        (event) => event.kind === 'connect' && event.client.id === client.connectionId,
      );
      client.stopReading();
      const closed = await ConnectionHooks.log.waitFor(closeOf(connected.client));
      expect(closed).toMatchObject({ info: { code: 1006 } });
      client.socket.terminate();
    });
  });

  it('closes the connection with 1009 on a frame over maxPayloadBytes', async () => {
    const client = await connect('alice');
    client.send({ type: 'echo', payload: 'x'.repeat(2048) });
    expect((await client.closed).code).toBe(1009);
  });
});

describe('shutdown', () => {
  it.each(PLATFORMS)('closes every connection with 1001 and app.close() resolves (%s)', async (platform) => {
    const server = await startApp(ConnectionModule, platform);
    const clients = await Promise.all(['a', 'b', 'c'].map((user) => TestClient.connect(server.url, { token: user })));
    await clients[0].subscribe('anything');
    await server.app.close();
    for (const client of clients) {
      expect(await client.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
    }
  });

  it('cuts connections that do not close within the drain timeout', async () => {
    const server = await startApp(ConnectionModule);
    const stuck = await TestClient.connect(server.url, { token: 'stuck' });
    const connected = await ConnectionHooks.log.waitFor(
      (event) => event.kind === 'connect' && event.client.id === stuck.connectionId,
    );
    stuck.stopReading();
    await server.app.close();
    const closed = await ConnectionHooks.log.waitFor(closeOf(connected.client));
    expect(closed).toMatchObject({ info: { code: 1006 } });
    stuck.socket.terminate();
  });
});
