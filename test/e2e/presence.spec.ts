import type { IncomingMessage } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import {
  Channel,
  ErrorCode,
  type OnRealtimeDisconnect,
  type RealtimeConnection,
  type RealtimeIdentity,
  RealtimeModule,
  RealtimeService,
  getHandshakeToken,
} from 'nestjs-realtime';
import { type TestApp, startApp } from '../support/create-app.js';
import { EventLog } from '../support/event-log.js';
import { TestClient, ofType } from '../support/test-client.js';

/** The token is the user id; the user's public info is its name in capitals. `huge` brings info too large. */
function withInfo(request: IncomingMessage): RealtimeIdentity | null {
  const token = getHandshakeToken(request);
  if (token === undefined) {
    return null;
  }
  if (token === 'huge') {
    return { userId: token, info: { name: 'x'.repeat(300) } };
  }
  return { userId: token, info: { name: token.toUpperCase() } };
}

@Channel('room:{roomId}', { presence: true })
class RoomChannel {}

/** `canJoin` may give the member info for this channel: here, the user's seat. `crowd` gives too much. */
@Channel('table:{tableId}', { presence: true })
class TableChannel {
  canJoin(client: RealtimeConnection): object | boolean {
    if (client.userId === 'crowd') {
      return { seat: 'y'.repeat(300) };
    }
    return { seat: `seat-of-${client.userId}` };
  }
}

@Channel('news:{topic}')
class NewsChannel {}

@Injectable()
class Departures implements OnRealtimeDisconnect {
  static readonly log = new EventLog<RealtimeConnection>();
  onRealtimeDisconnect(client: RealtimeConnection): void {
    Departures.log.push(client);
  }
}

@Module({
  imports: [
    RealtimeModule.forRoot({
      authenticate: withInfo,
      maxPresenceInfoBytes: 256,
      heartbeatIntervalMs: 20,
      heartbeatTimeoutMs: 1000, // generous: a busy CI machine must not time out live clients
    }),
  ],
  providers: [RoomChannel, TableChannel, NewsChannel, Departures],
})
class PresenceModule {}

const userJoined = ofType('system:user_joined');
const userLeft = ofType('system:user_left');

describe('presence channels', () => {
  let server: TestApp;
  let realtime: RealtimeService;
  const open: TestClient[] = [];

  async function connect(user: string, options: Parameters<typeof TestClient.connect>[1] = {}) {
    const client = await TestClient.connect(server.url, { token: user, ...options });
    open.push(client);
    return client;
  }

  beforeAll(async () => {
    server = await startApp(PresenceModule);
    realtime = server.app.get(RealtimeService);
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await server.app.close();
  });

  it('lists the current members, the subscriber included, in the subscribed reply', async () => {
    const alice = await connect('alice');
    await alice.subscribe('room:list');
    const bob = await connect('bob');
    const reply = await bob.subscribe('room:list');
    expect(reply).toEqual({
      type: 'subscribed',
      channel: 'room:list',
      replyTo: expect.anything(),
      payload: {
        members: expect.arrayContaining([
          { userId: 'alice', info: { name: 'ALICE' } },
          { userId: 'bob', info: { name: 'BOB' } },
        ]),
      },
    });
    expect((reply.payload as { members: unknown[] }).members).toHaveLength(2);
  });

  it('tells the other members when a user joins, not the joining connection', async () => {
    const alice = await connect('alice');
    await alice.subscribe('room:join');
    const bob = await connect('bob');
    await bob.subscribe('room:join');
    expect(await alice.next(userJoined)).toEqual({
      type: 'system:user_joined',
      channel: 'room:join',
      timestamp: expect.any(Number),
      payload: { userId: 'bob', info: { name: 'BOB' } },
    });
    await bob.sync();
    expect(bob.pending(userJoined)).toEqual([]);
  });

  it('counts a user with several devices as one member, joining at the first and leaving at the last', async () => {
    const watcher = await connect('walter');
    await watcher.subscribe('room:devices');
    const phone = await connect('dana');
    const laptop = await connect('dana');
    const tablet = await connect('dana');
    await phone.subscribe('room:devices');
    const onLaptop = await laptop.subscribe('room:devices');
    await tablet.subscribe('room:devices');
    expect(onLaptop.payload).toEqual({
      members: expect.arrayContaining([{ userId: 'dana', info: { name: 'DANA' } }]),
    });
    expect((onLaptop.payload as { members: unknown[] }).members).toHaveLength(2);

    await watcher.next(userJoined);
    expect((await phone.request({ type: 'unsubscribe', channel: 'room:devices' })).type).toBe('ack');
    await laptop.close();
    await watcher.sync();
    expect(watcher.pending(userJoined)).toEqual([]);
    expect(watcher.pending(userLeft)).toEqual([]);

    await tablet.close();
    expect(await watcher.next(userLeft)).toEqual({
      type: 'system:user_left',
      channel: 'room:devices',
      timestamp: expect.any(Number),
      payload: { userId: 'dana', info: { name: 'DANA' } },
    });
    await watcher.sync();
    expect(watcher.pending(userLeft)).toEqual([]);
    expect(await realtime.getPresence('room:devices')).toEqual([{ userId: 'walter', info: { name: 'WALTER' } }]);
  });

  it('sends user_left when a member unsubscribes', async () => {
    const alice = await connect('alice');
    await alice.subscribe('room:unsub');
    const bob = await connect('bob');
    await bob.subscribe('room:unsub');
    await alice.next(userJoined);
    await bob.request({ type: 'unsubscribe', channel: 'room:unsub' });
    expect((await alice.next(userLeft)).payload).toEqual({ userId: 'bob', info: { name: 'BOB' } });
  });

  it('sends user_left when a member stops answering heartbeats', async () => {
    const alice = await connect('alice');
    await alice.subscribe('room:heartbeat');
    const ghost = await connect('ghost', { autoPong: false });
    await ghost.subscribe('room:heartbeat');
    await alice.next(userJoined);
    expect((await alice.next(userLeft)).payload).toEqual({ userId: 'ghost', info: { name: 'GHOST' } });
    expect((await ghost.closed).code).toBe(4001);
  });

  it('answers the presence frame with the members, to subscribers only', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    await alice.subscribe('room:query');
    await bob.subscribe('room:query');
    const answer = await alice.request({ type: 'presence', channel: 'room:query', id: 'q1' });
    expect(answer).toEqual({
      type: 'system:presence',
      channel: 'room:query',
      replyTo: 'q1',
      payload: { members: expect.arrayContaining([{ userId: 'alice', info: { name: 'ALICE' } }]) },
    });
    expect((answer.payload as { members: unknown[] }).members).toHaveLength(2);
    expect(await realtime.getPresence('room:query')).toEqual((answer.payload as { members: unknown[] }).members);

    const outsider = await connect('carol');
    const refused = await outsider.request({ type: 'presence', channel: 'room:query' });
    expect(refused.error?.code).toBe(ErrorCode.NOT_SUBSCRIBED);
  });

  it('refuses presence on a channel without it', async () => {
    const alice = await connect('alice');
    const reply = await alice.subscribe('news:sports');
    expect(reply).toEqual({ type: 'subscribed', channel: 'news:sports', replyTo: expect.anything() });
    const refused = await alice.request({ type: 'presence', channel: 'news:sports' });
    expect(refused.error).toEqual({
      code: ErrorCode.FORBIDDEN,
      message: 'Channel "news:sports" does not offer presence',
    });
    await expect(realtime.getPresence('news:sports')).rejects.toThrow('Channel "news:sports" has no presence');
    const missing = await alice.request({ type: 'presence' });
    expect(missing.error?.code).toBe(ErrorCode.BAD_REQUEST);
  });

  it('takes member info from canJoin when it returns an object', async () => {
    const alice = await connect('alice');
    const reply = await alice.subscribe('table:1');
    expect(reply.payload).toEqual({ members: [{ userId: 'alice', info: { seat: 'seat-of-alice' } }] });
  });

  it('refuses a join whose member info is too large, and keeps the channel as it was', async () => {
    const alice = await connect('alice');
    await alice.subscribe('table:2');
    const crowd = await connect('crowd');
    const refused = await crowd.subscribe('table:2');
    expect(refused.error?.code).toBe(ErrorCode.INTERNAL);
    expect(server.logger.find('error', 'TableChannel.canJoin returned bad member info for user "crowd"')).toBeDefined();
    expect(crowd.pending()).toEqual([]);
    await alice.sync();
    expect(alice.pending(userJoined)).toEqual([]);
    expect(await realtime.getPresence('table:2')).toEqual([{ userId: 'alice', info: { seat: 'seat-of-alice' } }]);
    // The connection itself is fine: its identity's info is small enough for other channels.
    expect((await crowd.subscribe('room:elsewhere')).type).toBe('subscribed');
  });

  it('refuses the handshake when the authenticator returns info that is too large', async () => {
    expect((await TestClient.refusal(server.url, { token: 'huge' })).status).toBe(401);
    expect(server.logger.find('error', 'bad "info" for user "huge"')).toBeDefined();
  });

  it('lets server code subscribe a connection to a presence channel, as a member', async () => {
    const alice = await connect('alice');
    await alice.subscribe('room:server');
    const bob = await connect('bob');
    expect(await realtime.subscribe(bob.connectionId, 'room:server')).toBe(true);
    expect((await bob.nextOfType('subscribed')).payload).toEqual({
      members: expect.arrayContaining([{ userId: 'bob', info: { name: 'BOB' } }]),
    });
    expect((await alice.next(userJoined)).payload).toEqual({ userId: 'bob', info: { name: 'BOB' } });
    expect(await realtime.unsubscribe(bob.connectionId, 'room:server')).toBe(true);
    expect((await alice.next(userLeft)).payload).toEqual({ userId: 'bob', info: { name: 'BOB' } });
  });

  it('forgets every member once they are gone', async () => {
    const clients = await Promise.all(['p', 'q', 'r'].map((user) => connect(user)));
    await Promise.all(clients.map((client) => client.subscribe('room:empty')));
    expect(await realtime.getPresence('room:empty')).toHaveLength(3);
    const ids = clients.map((client) => client.connectionId);
    await Promise.all(clients.map((client) => client.close()));
    // Disconnect hooks run once a connection has left its channels.
    await Promise.all(ids.map((id) => Departures.log.waitFor((client) => client.id === id)));
    expect(await realtime.getPresence('room:empty')).toEqual([]);
  });
});

@Channel('lobby:{id}', { presence: true })
class LobbyChannel {}

@Module({ imports: [RealtimeModule.forRoot()], providers: [LobbyChannel] })
class AnonymousModule {}

describe('presence with anonymous connections', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp(AnonymousModule);
  });

  afterAll(async () => {
    await server.app.close();
  });

  it('lets them see the members without being one', async () => {
    const first = await TestClient.connect(server.url);
    const second = await TestClient.connect(server.url);
    expect((await first.subscribe('lobby:1')).payload).toEqual({ members: [] });
    expect((await second.subscribe('lobby:1')).payload).toEqual({ members: [] });
    await first.sync();
    expect(first.pending(userJoined)).toEqual([]);
    await Promise.all([first.close(), second.close()]);
  });
});
