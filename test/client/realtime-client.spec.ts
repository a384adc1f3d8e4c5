import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ForbiddenException, type INestApplication, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  Channel,
  ChannelName,
  ConnectedClient,
  ForbiddenRealtimeException,
  OnMessage,
  type OnRealtimeConnect,
  Payload,
  type RealtimeConnection as ServerSideClient,
  RealtimeModule,
  RealtimeService,
} from 'nestjs-realtime';
import {
  RealtimeClient,
  type RealtimeClientOptions,
  RealtimeError,
  type ServerMessage,
  type StateChange,
} from 'nestjs-realtime/client';
import { WebSocket, WebSocketServer } from 'ws';
import { EventLog } from '../support/event-log.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { waitUntil } from '../support/wait-until.js';

/** The app's message types, as a client would declare them: typed `on()` and `request()`. */
interface ChatTypes {
  'chat:group': { text: string };
  echo: { n: number };
  never: { n: number };
  'chat:private': { text: string };
}
interface ChatAcks {
  'chat:group': { id: string; offset: number };
  echo: { n: number };
}

@Channel('room:{roomId}', { public: true, presence: true, history: 1000, whispers: true })
class RoomChannel {
  constructor(private readonly realtime: RealtimeService) {}

  @OnMessage('chat:group')
  async send(
    @Payload() payload: { text: string },
    @ConnectedClient() client: ServerSideClient,
    @ChannelName() channel: string,
  ): Promise<{ id: string | undefined; offset: number | undefined }> {
    const { envelope: sent } = await this.realtime.broadcastToChannel(channel, {
      type: 'chat:group',
      payload,
      sender: client.userId,
    });
    return { id: sent.id, offset: sent.offset };
  }
}

@Channel()
class Handlers {
  @OnMessage('echo')
  echo(@Payload() payload: { n: number }): { n: number } {
    if (payload.n < 0) {
      throw new ForbiddenRealtimeException('negative numbers are not allowed');
    }
    return payload;
  }

  @OnMessage('never')
  never(): Promise<never> {
    return new Promise(() => undefined);
  }
}

/** Refuses the user `banned` after the handshake, as an app checking a ban list would. */
@Injectable()
class BanList implements OnRealtimeConnect {
  onRealtimeConnect(client: ServerSideClient): void {
    if (client.userId === 'banned') {
      throw new ForbiddenException('Banned');
    }
  }
}

@Module({
  imports: [
    RealtimeModule.forRoot({ authenticate: tokenIsUserId, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 5000 }),
  ],
  providers: [RoomChannel, Handlers, BanList],
})
class ClientTestModule {}

@Module({ imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId, closeUnauthorized: true })] })
class CloseUnauthorizedModule {}

/** Backoff shrunk for tests (the delays are random below these bounds). */
const fast: RealtimeClientOptions = { WebSocket, reconnect: { minDelayMs: 5, maxDelayMs: 50 } };

describe('RealtimeClient against a real server', () => {
  let app: INestApplication;
  let port: number;
  const clients: { close(): void }[] = [];

  async function startServer(onPort = 0): Promise<void> {
    app = await NestFactory.create(ClientTestModule, { logger: false });
    await app.listen(onPort, '127.0.0.1');
    port = Number(new URL(await app.getUrl()).port);
  }

  function client(options: RealtimeClientOptions): RealtimeClient<ChatTypes, ChatAcks> {
    const created = new RealtimeClient<ChatTypes, ChatAcks>(`ws://127.0.0.1:${port}/realtime`, {
      ...fast,
      ...options,
    });
    clients.push(created);
    return created;
  }

  async function connected(user: string): Promise<RealtimeClient<ChatTypes, ChatAcks>> {
    const created = client({ token: user });
    await created.connect();
    return created;
  }

  function states(target: RealtimeClient<ChatTypes, ChatAcks>): EventLog<StateChange> {
    const log = new EventLog<StateChange>();
    target.on('state', (change) => log.push(change));
    return log;
  }

  const service = () => app.get(RealtimeService);

  beforeEach(async () => {
    await startServer();
  });

  afterEach(async () => {
    for (const created of clients.splice(0)) {
      created.close();
    }
    await app.close();
  });

  describe('connecting', () => {
    it('sends the token as a bearer.<token> subprotocol entry, or in the query with tokenIn or when it cannot be one', async () => {
      const opened: { url: string; protocols: string | string[] }[] = [];
      class RecordingWebSocket extends WebSocket {
        constructor(url: string, protocols: string | string[]) {
          super(url, protocols);
          opened.push({ url, protocols });
        }
      }
      const viaProtocol = client({ token: 'alice', WebSocket: RecordingWebSocket });
      await viaProtocol.connect();
      const viaQuery = client({ token: 'bob', tokenIn: 'query', WebSocket: RecordingWebSocket });
      await viaQuery.connect();
      const opaque = client({ token: 'carol/=', WebSocket: RecordingWebSocket });
      await opaque.connect();
      expect(opened).toEqual([
        { url: `ws://127.0.0.1:${port}/realtime`, protocols: ['realtime.v1', 'bearer.alice'] },
        { url: `ws://127.0.0.1:${port}/realtime?token=bob`, protocols: ['realtime.v1'] },
        { url: `ws://127.0.0.1:${port}/realtime?token=carol%2F%3D`, protocols: ['realtime.v1'] },
      ]);
      expect(
        [viaProtocol, viaQuery, opaque].map((each) => service().getConnection(each.connectionId!)?.userId),
      ).toEqual(['alice', 'bob', 'carol/=']);
    });

    it('does not connect in the constructor; connect() resolves once welcomed, with state events', async () => {
      const alice = client({ token: 'alice' });
      const log = states(alice);
      expect(alice.state).toBe('closed');
      await alice.connect();
      expect(alice.state).toBe('connected');
      expect(alice.userId).toBe('alice');
      expect(alice.connectionId).toMatch(/\./);
      expect(log.events).toEqual([
        { from: 'closed', to: 'connecting' },
        { from: 'connecting', to: 'connected' },
      ]);
    });

    it('stops, without reconnecting, when the server refuses the handshake as unauthorized', async () => {
      const intruder = client({ token: 'bad' });
      const errors = new EventLog<RealtimeError>();
      intruder.on('error', (error) => errors.push(error));
      await expect(intruder.connect()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
      expect(intruder.state).toBe('closed');
      expect((await errors.waitFor(() => true)).message).toContain('401');
    });

    it('stops, and says why in its state event, when the server refuses the origin with 403', async () => {
      // A page on another site: the server's origin check refuses it before any token is looked at.
      class FromAnotherSite extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { origin: 'https://elsewhere.example' });
        }
      }
      const stranger = client({ token: 'alice', WebSocket: FromAnotherSite });
      const log = states(stranger);
      await expect(stranger.connect()).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(stranger.state).toBe('closed');
      expect(log.events.at(-1)).toMatchObject({ to: 'closed', reason: expect.stringContaining('403') });
      expect(log.events.filter((change) => change.to === 'connecting')).toHaveLength(1);
    });

    it('stops too when the server refuses with close code 4401 (closeUnauthorized), as a browser can see', async () => {
      const strict = await NestFactory.create(CloseUnauthorizedModule, { logger: false });
      await strict.listen(0, '127.0.0.1');
      try {
        const url = (await strict.getUrl()).replace('http', 'ws');
        // What any WebSocket client sees: the upgrade succeeds, then the close code.
        const raw = new WebSocket(`${url}/realtime?token=bad`, 'realtime.v1');
        const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
          raw.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
        );
        expect(closed).toEqual({ code: 4401, reason: 'Unauthorized' });
        const intruder = new RealtimeClient(`${url}/realtime`, { ...fast, token: 'bad' });
        clients.push(intruder);
        await expect(intruder.connect()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
        expect(intruder.state).toBe('closed');
        const alice = new RealtimeClient(`${url}/realtime`, { ...fast, token: 'alice' });
        clients.push(alice);
        await alice.connect();
        expect(strict.get(RealtimeService).stats().handshakesRefused).toEqual({ '4401': 2 });
      } finally {
        await strict.close();
      }
    });

    it('asks getToken before every connect, so a refreshed token is used after a reconnect', async () => {
      let issued = 0;
      const tokens: string[] = [];
      const alice = client({
        getToken: async () => {
          const token = issued++ === 0 ? 'alice' : 'alice-refreshed';
          tokens.push(token);
          return Promise.resolve(token);
        },
      });
      const log = states(alice);
      await alice.connect();
      await service().disconnect({ connectionId: alice.connectionId! }, { code: 4002, reason: 'token expired' });
      await log.waitFor((change) => change.to === 'disconnected');
      await log.waitFor((change) => change.to === 'connected' && log.events.length > 3);
      expect(tokens).toEqual(['alice', 'alice-refreshed']);
      expect(alice.userId).toBe('alice-refreshed');
    });

    it('rejects a bad option naming it, and needs a WebSocket where the runtime has none', () => {
      expect(() => new RealtimeClient('ws://x', { WebSocket, reconnect: { minDelayMs: -1 } })).toThrow(
        'Invalid RealtimeClient option "reconnect.minDelayMs": expected a positive number, got -1',
      );
      expect(() => new RealtimeClient('ws://x', { WebSocket, tokenIn: 'cookie' as 'query' })).toThrow(
        `Invalid RealtimeClient option "tokenIn": expected 'protocol' or 'query', got cookie`,
      );
      expect(() => new RealtimeClient('ws://x')).toThrow('No WebSocket in this runtime');
    });
  });

  describe('requests', () => {
    it('pings: resolves to the round trip in milliseconds', async () => {
      const alice = await connected('alice');
      expect(await alice.ping()).toBeGreaterThanOrEqual(0);
    });

    it('resolves to the ack payload', async () => {
      const alice = await connected('alice');
      const ack = await alice.request('echo', { n: 42 });
      expect(ack).toEqual({ n: 42 });
    });

    it("rejects with a RealtimeError carrying the server's code", async () => {
      const alice = await connected('alice');
      const refused = alice.request('echo', { n: -1 });
      await expect(refused).rejects.toBeInstanceOf(RealtimeError);
      await expect(refused).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'negative numbers are not allowed' });
      await expect(alice.request('chat:group', { text: 'x' }, { channel: 'room:nope' })).rejects.toMatchObject({
        code: 'NOT_SUBSCRIBED',
      });
    });

    it('rejects with TIMEOUT when no answer comes in time, and with DISCONNECTED when not connected', async () => {
      const alice = await connected('alice');
      await expect(alice.request('never', { n: 1 }, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'TIMEOUT' });
      const offline = client({ token: 'bob' });
      await expect(offline.request('echo', { n: 1 })).rejects.toMatchObject({ code: 'DISCONNECTED' });
    });

    it('rejects pending requests with DISCONNECTED when the connection drops, and CLOSED on close()', async () => {
      const alice = await connected('alice');
      const pending = alice.request('never', { n: 1 });
      await service().disconnect({ connectionId: alice.connectionId! }, { code: 4002, reason: 'bye' });
      await expect(pending).rejects.toMatchObject({ code: 'DISCONNECTED' });
      const bob = await connected('bob');
      const another = bob.request('never', { n: 1 });
      bob.close();
      await expect(another).rejects.toMatchObject({ code: 'CLOSED' });
      expect(bob.state).toBe('closed');
    });

    it('receives messages outside channels by type', async () => {
      const alice = await connected('alice');
      const received = new EventLog<[{ text: string }, ServerMessage]>();
      alice.on('chat:private', (payload, message) => received.push([payload, message]));
      await service().sendToUser('alice', { type: 'chat:private', payload: { text: 'psst' }, sender: 'bob' });
      const [payload, message] = await received.waitFor(() => true);
      expect(payload).toEqual({ text: 'psst' });
      expect(message.sender).toBe('bob');
    });
  });

  describe('subscriptions', () => {
    it('subscribes, receives channel messages, and sends to the channel', async () => {
      const alice = await connected('alice');
      const bob = await connected('bob');
      const room = alice.subscribe('room:lobby');
      await room.ready;
      await bob.subscribe('room:lobby').ready;
      const received = new EventLog<{ text: string }>();
      room.on('chat:group', (payload) => received.push(payload));
      const ack = await bob.request('chat:group', { text: 'hi' }, { channel: 'room:lobby' });
      expect(ack.offset).toBe(1);
      expect(await received.waitFor(() => true)).toEqual({ text: 'hi' });
      expect(alice.subscribe('room:lobby')).toBe(room);
    });

    it('rejects ready with the server code when the subscription is refused', async () => {
      const alice = await connected('alice');
      await expect(alice.subscribe('nowhere:1').ready).rejects.toMatchObject({ code: 'FORBIDDEN' });
    });

    it('keeps presence members current with join and leave events', async () => {
      const alice = await connected('alice');
      const room = alice.subscribe('room:presence');
      await room.ready;
      expect(room.members.map((member) => member.userId)).toEqual(['alice']);
      const joins = new EventLog<string>();
      const leaves = new EventLog<string>();
      room.on('join', (member) => joins.push(member.userId));
      room.on('leave', (member) => leaves.push(member.userId));
      const bob = await connected('bob');
      await bob.subscribe('room:presence').ready;
      await joins.waitFor((user) => user === 'bob');
      expect(room.members.map((member) => member.userId).sort()).toEqual(['alice', 'bob']);
      await bob.subscribe('room:presence').unsubscribe();
      await leaves.waitFor((user) => user === 'bob');
      expect(room.members.map((member) => member.userId)).toEqual(['alice']);
    });

    it('whispers to the other members', async () => {
      const alice = await connected('alice');
      const bob = await connected('bob');
      const aliceRoom = alice.subscribe('room:whispers');
      const bobRoom = bob.subscribe('room:whispers');
      await Promise.all([aliceRoom.ready, bobRoom.ready]);
      const heard = new EventLog<{ payload: unknown; event: string; sender: string | null | undefined }>();
      bobRoom.on('whisper', (payload, whisper) => heard.push({ payload, ...whisper }));
      aliceRoom.whisper('typing', { on: true });
      expect(await heard.waitFor(() => true)).toEqual({ payload: { on: true }, event: 'typing', sender: 'alice' });
    });

    it('reads the channel history', async () => {
      const alice = await connected('alice');
      const room = alice.subscribe('room:history');
      await room.ready;
      for (const text of ['a', 'b', 'c']) {
        await alice.request('chat:group', { text }, { channel: 'room:history' });
      }
      const page = await room.history({ since: 1 });
      expect(page.offset).toBe(3);
      expect(page.messages.map((message) => message.payload)).toEqual([{ text: 'b' }, { text: 'c' }]);
    });
  });

  describe('reconnecting', () => {
    it('reconnects after the server drops the connection, and resubscribes', async () => {
      const alice = await connected('alice');
      const log = states(alice);
      const room = alice.subscribe('room:again');
      await room.ready;
      const resubscribed = new EventLog<boolean>();
      room.on('subscribed', (info) => resubscribed.push(info.recovered));
      await service().disconnect({ connectionId: alice.connectionId! }, { code: 4002, reason: 'moved' });
      expect(await resubscribed.waitFor(() => true)).toBe(true);
      expect(log.events.map((change) => change.to)).toEqual(['disconnected', 'connecting', 'connected']);
      const received = new EventLog<{ text: string }>();
      room.on('chat:group', (payload) => received.push(payload));
      await service().broadcastToChannel('room:again', { type: 'chat:group', payload: { text: 'still here' } });
      expect(await received.waitFor(() => true)).toEqual({ text: 'still here' });
    });

    it('says why in its state events: the close code and reason', async () => {
      const alice = await connected('alice');
      const log = states(alice);
      await service().disconnect({ connectionId: alice.connectionId! }, { code: 4002, reason: 'moved' });
      expect(await log.waitFor((change) => change.to === 'disconnected')).toEqual({
        from: 'connected',
        to: 'disconnected',
        code: 4002,
        reason: 'moved',
      });
    });

    it('queues request() and send() made while reconnecting, and sends them in order once resubscribed', async () => {
      const alice = await connected('alice');
      const watcher = await connected('bob');
      const room = alice.subscribe('room:queue');
      const watched = watcher.subscribe('room:queue');
      await Promise.all([room.ready, watched.ready]);
      const seen = new EventLog<string>();
      watched.on('chat:group', (payload) => seen.push(payload.text));
      const log = states(alice);
      await service().disconnect({ connectionId: alice.connectionId! }, { code: 4002, reason: 'moved' });
      await log.waitFor((change) => change.to === 'disconnected');

      expect(alice.send('chat:group', { text: 'one' }, { channel: 'room:queue' })).toBe(true);
      const two = alice.request('chat:group', { text: 'two' }, { channel: 'room:queue' });
      expect(alice.send('chat:group', { text: 'three' }, { channel: 'room:queue' })).toBe(true);
      expect(await two).toEqual({ id: expect.stringMatching(/^m_/), offset: expect.any(Number) });
      await seen.waitFor((text) => text === 'three');
      expect(seen.events).toEqual(['one', 'two', 'three']);
    });

    it('fails what cannot wait with DISCONNECTED: past offlineQueue, or with the queue off', async () => {
      const alice = client({ token: 'alice', offlineQueue: 1 });
      await alice.connect();
      const log = states(alice);
      await service().disconnect({ connectionId: alice.connectionId! }, { code: 4002, reason: 'moved' });
      await log.waitFor((change) => change.to === 'disconnected');
      const waiting = alice.request('echo', { n: 1 });
      await expect(alice.request('echo', { n: 2 })).rejects.toMatchObject({
        code: 'DISCONNECTED',
        message: expect.stringContaining('offlineQueue'),
      });
      expect(alice.send('echo', { n: 3 })).toBe(false);
      expect(await waiting).toEqual({ n: 1 });

      const unqueued = client({ token: 'carol', offlineQueue: 0 });
      await unqueued.connect();
      const unqueuedLog = states(unqueued);
      await service().disconnect({ connectionId: unqueued.connectionId! }, { code: 4002, reason: 'moved' });
      await unqueuedLog.waitFor((change) => change.to === 'disconnected');
      await expect(unqueued.request('echo', { n: 1 })).rejects.toMatchObject({ code: 'DISCONNECTED' });
    });

    it('gives up after reconnect.maxAttempts, failing what waited with DISCONNECTED', async () => {
      const alice = client({ token: 'alice', reconnect: { minDelayMs: 5, maxDelayMs: 10, maxAttempts: 2 } });
      await alice.connect();
      const log = states(alice);
      const errors = new EventLog<RealtimeError>();
      alice.on('error', (error) => errors.push(error));
      await app.close();
      const waiting = alice.request('echo', { n: 1 });
      await expect(waiting).rejects.toMatchObject({ code: 'DISCONNECTED' });
      expect(await errors.waitFor(() => true)).toMatchObject({
        code: 'DISCONNECTED',
        message: 'Gave up after 2 reconnect attempts',
      });
      expect(alice.state).toBe('closed');
      expect(log.events.at(-1)).toMatchObject({ to: 'closed', reason: 'Gave up after 2 reconnect attempts' });
      expect(log.events.filter((change) => change.to === 'connecting')).toHaveLength(2);
      await startServer(); // afterEach closes it
    });

    it('does not come back after a connect hook refused it with 4403', async () => {
      const banned = client({ token: 'banned' });
      const log = states(banned);
      const errors = new EventLog<RealtimeError>();
      banned.on('error', (error) => errors.push(error));
      await banned.connect();
      expect((await errors.waitFor(() => true)).code).toBe('CONNECTION_CLOSED');
      expect(await log.waitFor((change) => change.to === 'closed')).toMatchObject({ code: 4403, reason: 'Banned' });
    });

    it('does not come back after a server-side disconnect with 1008', async () => {
      const alice = await connected('alice');
      const errors = new EventLog<RealtimeError>();
      alice.on('error', (error) => errors.push(error));
      await service().disconnect({ userId: 'alice' });
      expect((await errors.waitFor(() => true)).code).toBe('CONNECTION_CLOSED');
      expect(alice.state).toBe('closed');
    });

    it('drops a connection on which the server went silent, and connects again (the watchdog)', async () => {
      // A server that welcomes with a 30 ms heartbeat and then never answers: a connection lost without a close.
      const silent = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      await new Promise((resolve) => silent.once('listening', resolve));
      let accepted = 0;
      silent.on('connection', (socket) => {
        accepted++;
        const payload = { connectionId: `silent.${accepted}`, userId: 'x', heartbeatMs: 30 };
        socket.send(JSON.stringify({ type: 'system:welcome', payload }));
      });
      try {
        const { port: silentPort } = silent.address() as { port: number };
        const watched = new RealtimeClient(`ws://127.0.0.1:${silentPort}/`, fast);
        clients.push(watched);
        const log = new EventLog<StateChange>();
        watched.on('state', (change) => log.push(change));
        await watched.connect();
        await log.waitFor((change) => change.to === 'disconnected');
        await log.waitFor((change) => change.to === 'connected' && watched.connectionId === 'silent.2');
        watched.close();
      } finally {
        for (const socket of silent.clients) {
          socket.terminate();
        }
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it('comes back after a server restart; recovered: false tells the app its history is gone', async () => {
      const alice = await connected('alice');
      const room = alice.subscribe('room:restart');
      await room.ready;
      await alice.request('chat:group', { text: 'before' }, { channel: 'room:restart' });
      const subscribed = new EventLog<{ recovered: boolean }>();
      room.on('subscribed', (info) => subscribed.push(info));
      await app.close();
      await startServer(port); // same port, empty in-memory history: a new epoch
      expect(await subscribed.waitFor(() => true)).toMatchObject({ recovered: false });
      const received = new EventLog<{ text: string }>();
      room.on('chat:group', (payload) => received.push(payload));
      await service().broadcastToChannel('room:restart', { type: 'chat:group', payload: { text: 'after' } });
      expect(await received.waitFor(() => true)).toEqual({ text: 'after' });
    });

    it('recovers with no gap and no duplicate while messages flow through repeated reconnects', async () => {
      const reader = await connected('reader');
      const room = reader.subscribe('room:flow');
      await room.ready;
      const offsets: number[] = [];
      room.on('chat:group', (_payload, message) => offsets.push(message.offset!));
      const recoveries = new EventLog<boolean>();
      room.on('subscribed', (info) => recoveries.push(info.recovered));
      const total = 300;
      const publishing = (async () => {
        for (let i = 0; i < total; i++) {
          await service().broadcastToChannel('room:flow', { type: 'chat:group', payload: { text: String(i) } });
          if (i % 25 === 0) {
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
      })();
      for (let drop = 0; drop < 8; drop++) {
        const id = reader.connectionId;
        if (id !== undefined) {
          await service().disconnect({ connectionId: id }, { code: 4002, reason: 'drop' });
        }
        await recoveries.waitFor(() => recoveries.events.length > drop);
      }
      await publishing;
      expect(await waitUntil(() => offsets.length >= total)).toBe(true);
      expect(recoveries.events.every(Boolean)).toBe(true);
      expect(offsets).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    });
  });
});
