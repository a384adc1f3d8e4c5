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
import { type Frame, type PresenceDiff, TestClient, announces, isPresenceDiff } from '../support/test-client.js';

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

/** Above two members: counts only, sent as soon as they change. */
@Channel('crowd:{id}', { presence: { maxAnnounced: 2, countIntervalMs: 0 } })
class CrowdChannel {}

/** A one-second window: a burst of joins lands in it on any machine, however loaded. */
@Channel('burst:{id}', { presence: { diffIntervalMs: 1000 } })
class BurstChannel {}

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
  providers: [RoomChannel, TableChannel, NewsChannel, CrowdChannel, BurstChannel, Departures],
})
class PresenceModule {}

type Diff = PresenceDiff;
const isDiff = isPresenceDiff;
const diffOf = (frame: Frame) => frame.payload as Diff;

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
        memberCount: 2,
      },
    });
    expect((reply.payload as { members: unknown[] }).members).toHaveLength(2);
  });

  it('tells the members who joined in a system:presence_diff, with the member count', async () => {
    const alice = await connect('alice');
    await alice.subscribe('room:join');
    const bob = await connect('bob');
    await bob.subscribe('room:join');
    // Alice's own join may share the diff: joins within one window go out together.
    expect(await alice.next(announces('bob'))).toEqual({
      type: 'system:presence_diff',
      channel: 'room:join',
      timestamp: expect.any(Number),
      payload: { joins: expect.arrayContaining([{ userId: 'bob', info: { name: 'BOB' } }]), leaves: [], count: 2 },
    });
  });

  it('coalesces the joins of a burst into few diffs, each user once', async () => {
    const watcher = await connect('watcher');
    await watcher.subscribe('burst:1');
    const users = Array.from({ length: 20 }, (_, index) => `burst${index}`);
    const clients = await Promise.all(users.map((user) => connect(user)));
    await Promise.all(clients.map((client) => client.subscribe('burst:1')));
    const announced = new Set<string>();
    let diffs = 0;
    while (!users.every((user) => announced.has(user))) {
      const diff = diffOf(await watcher.next(isDiff));
      diffs++;
      for (const member of (diff.joins ?? []).filter(({ userId }) => userId !== 'watcher')) {
        expect(announced.has(member.userId)).toBe(false);
        announced.add(member.userId);
      }
    }
    expect([...announced].sort()).toEqual([...users].sort());
    expect(diffs).toBeLessThan(users.length);
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
      memberCount: 2,
    });
    expect((onLaptop.payload as { members: unknown[] }).members).toHaveLength(2);

    await watcher.next(announces('dana'));
    expect((await phone.request({ type: 'unsubscribe', channel: 'room:devices' })).type).toBe('ack');
    await laptop.close();
    await Departures.log.waitFor((client) => client.id === laptop.connectionId);
    expect(await realtime.getPresence('room:devices')).toHaveLength(2);

    await tablet.close();
    expect(diffOf(await watcher.next(announces('dana', 'leaves')))).toEqual({
      joins: [],
      leaves: [{ userId: 'dana', info: { name: 'DANA' } }],
      count: 1,
    });
    // Every diff the watcher got names dana once in all: the join, then this leave.
    expect(watcher.pending(isDiff)).toEqual([]);
    expect(await realtime.getPresence('room:devices')).toEqual([{ userId: 'walter', info: { name: 'WALTER' } }]);
  });

  it('announces the leave of a member who unsubscribes', async () => {
    const alice = await connect('alice');
    await alice.subscribe('room:unsub');
    const bob = await connect('bob');
    await bob.subscribe('room:unsub');
    await alice.next(announces('bob'));
    await bob.request({ type: 'unsubscribe', channel: 'room:unsub' });
    expect(diffOf(await alice.next(announces('bob', 'leaves'))).leaves).toEqual([
      { userId: 'bob', info: { name: 'BOB' } },
    ]);
  });

  it('announces the leave of a member who stops answering heartbeats', async () => {
    const alice = await connect('alice');
    await alice.subscribe('room:heartbeat');
    const ghost = await connect('ghost', { autoPong: false });
    await ghost.subscribe('room:heartbeat');
    await alice.next(announces('ghost'));
    await alice.next(announces('ghost', 'leaves'));
    expect((await ghost.closed).code).toBe(4001);
  });

  it('sends counts only above maxAnnounced, and lets members page through the list', async () => {
    const [first, second, third] = await Promise.all(['c1', 'c2', 'c3'].map((user) => connect(user)));
    await first.subscribe('crowd:1');
    expect((await second.subscribe('crowd:1')).payload).toMatchObject({ memberCount: 2 });
    await first.next(announces('c2'));
    // A third member: over the limit of two. Its `subscribed` has the count, not the list; the others get counts.
    expect((await third.subscribe('crowd:1')).payload).toEqual({ memberCount: 3 });
    expect(diffOf(await first.next((frame) => isDiff(frame) && diffOf(frame).count === 3))).toEqual({ count: 3 });
    const page = await first.request({ type: 'presence', channel: 'crowd:1', limit: 2 });
    expect(page.payload).toEqual({ members: [expect.any(Object), expect.any(Object)], count: 3, next: 2 });
    const rest = await first.request({ type: 'presence', channel: 'crowd:1', since: 2 });
    expect(rest.payload).toEqual({ members: [expect.any(Object)], count: 3 });
    const everyone = [
      ...(page.payload as Diff & { members: { userId: string }[] }).members,
      ...(rest.payload as { members: { userId: string }[] }).members,
    ];
    expect(everyone.map((member) => member.userId).sort()).toEqual(['c1', 'c2', 'c3']);
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
      payload: { members: expect.arrayContaining([{ userId: 'alice', info: { name: 'ALICE' } }]), count: 2 },
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
    expect(reply.payload).toEqual({ members: [{ userId: 'alice', info: { seat: 'seat-of-alice' } }], memberCount: 1 });
  });

  it('refuses a join whose member info is too large, and keeps the channel as it was', async () => {
    const alice = await connect('alice');
    await alice.subscribe('table:2');
    const crowd = await connect('crowd');
    const refused = await crowd.subscribe('table:2');
    expect(refused.error?.code).toBe(ErrorCode.INTERNAL);
    expect(server.logger.find('error', 'TableChannel.canJoin returned bad member info for user "crowd"')).toBeDefined();
    expect(crowd.pending()).toEqual([]);
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
      memberCount: 2,
    });
    await alice.next(announces('bob'));
    expect(await realtime.unsubscribe(bob.connectionId, 'room:server')).toBe(true);
    await alice.next(announces('bob', 'leaves'));
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
    expect((await first.subscribe('lobby:1')).payload).toEqual({ members: [], memberCount: 0 });
    expect((await second.subscribe('lobby:1')).payload).toEqual({ members: [], memberCount: 0 });
    await first.sync();
    expect(first.pending(isDiff)).toEqual([]);
    await Promise.all([first.close(), second.close()]);
  });
});
