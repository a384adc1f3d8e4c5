import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
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
import type { PresenceDiffPayload } from 'nestjs-realtime/testing';
import { EventLog } from '../support/event-log.js';
import { TRANSPORTS, kitAroundSuite } from '../support/kit.js';

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

@Channel('room:{roomId}', { public: true, presence: true })
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

@Channel('news:{topic}', { public: true })
class NewsChannel {}

/** Above two members: counts only, sent as soon as they change. */
@Channel('crowd:{id}', { public: true, presence: { maxAnnounced: 2, countIntervalMs: 0 } })
class CrowdChannel {}

/** A one-second window: a burst of joins lands in it on any machine, however loaded. */
@Channel('burst:{id}', { public: true, presence: { diffIntervalMs: 1000 } })
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

/** A presence diff announcing that `userId` joined (or, with `leaves`, left). */
const announces =
  (userId: string, list: 'joins' | 'leaves' = 'joins') =>
  (diff: PresenceDiffPayload) =>
    (diff[list] ?? []).some((member) => member.userId === userId);

describe.each(TRANSPORTS)('presence channels, %s', (transport) => {
  const kit = kitAroundSuite(PresenceModule, transport);
  const realtime = () => kit.rt.app.get(RealtimeService);
  // The authenticator runs: the token is the user id, and the user's info comes from it.
  const connect = (user: string, autoPong?: boolean) => kit.rt.connect({ token: user, autoPong });

  it('lists the current members, the subscriber included, in the subscribed reply', async () => {
    const alice = await connect('alice');
    await alice.subscribe('room:list');
    const bob = await connect('bob');
    const reply = await bob.subscribe('room:list');
    expect(reply).toEqual({
      members: expect.arrayContaining([
        { userId: 'alice', info: { name: 'ALICE' } },
        { userId: 'bob', info: { name: 'BOB' } },
      ]),
      memberCount: 2,
    });
    expect(reply.members).toHaveLength(2);
  });

  it('tells the members who joined in a system:presence_diff, with the member count', async () => {
    const alice = await connect('alice');
    await alice.subscribe('room:join');
    const bob = await connect('bob');
    await bob.subscribe('room:join');
    // Alice's own join may share the diff: joins within one window go out together.
    expect(await alice.expectMessage('system:presence_diff', announces('bob'))).toEqual({
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
    const diffs = await watcher.expectPresence('burst:1', { joins: users });
    const announced = diffs.flatMap((diff) => (diff.joins ?? []).map((member) => member.userId));
    expect(announced.filter((user) => user !== 'watcher').sort()).toEqual([...users].sort());
    expect(diffs.length).toBeLessThan(users.length);
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
    expect(onLaptop).toEqual({
      members: expect.arrayContaining([{ userId: 'dana', info: { name: 'DANA' } }]),
      memberCount: 2,
    });
    expect(onLaptop.members).toHaveLength(2);

    await watcher.expectPresence('room:devices', { joins: ['dana'] });
    await phone.unsubscribe('room:devices');
    const laptopId = laptop.connectionId;
    await laptop.close();
    await Departures.log.waitFor((client) => client.id === laptopId);
    expect(await realtime().getPresence('room:devices')).toHaveLength(2);

    await tablet.close();
    const leave = await watcher.expectMessage('system:presence_diff', announces('dana', 'leaves'));
    expect(leave.payload).toEqual({ joins: [], leaves: [{ userId: 'dana', info: { name: 'DANA' } }], count: 1 });
    // Every diff the watcher got names dana once in all: the join, then this leave.
    await watcher.expectNoMessage('system:presence_diff');
    expect(await realtime().getPresence('room:devices')).toEqual([{ userId: 'walter', info: { name: 'WALTER' } }]);
  });

  it('announces the leave of a member who unsubscribes', async () => {
    const alice = await connect('alice');
    await alice.subscribe('room:unsub');
    const bob = await connect('bob');
    await bob.subscribe('room:unsub');
    await alice.expectPresence('room:unsub', { joins: ['bob'] });
    await bob.unsubscribe('room:unsub');
    const [diff] = await alice.expectPresence('room:unsub', { leaves: ['bob'] });
    expect(diff.leaves).toEqual([{ userId: 'bob', info: { name: 'BOB' } }]);
  });

  it('announces the leave of a member who stops answering heartbeats', async () => {
    const alice = await connect('alice');
    await alice.subscribe('room:heartbeat');
    const ghost = await connect('ghost', false);
    await ghost.subscribe('room:heartbeat');
    await alice.expectPresence('room:heartbeat', { joins: ['ghost'] });
    await alice.expectPresence('room:heartbeat', { leaves: ['ghost'] });
    await ghost.expectClosed(4001);
  });

  it('sends counts only above maxAnnounced, and lets members page through the list', async () => {
    const [first, second, third] = await Promise.all(['c1', 'c2', 'c3'].map((user) => connect(user)));
    await first.subscribe('crowd:1');
    expect(await second.subscribe('crowd:1')).toMatchObject({ memberCount: 2 });
    await first.expectPresence('crowd:1', { joins: ['c2'] });
    // A third member: over the limit of two. Its `subscribed` has the count, not the list; the others get counts.
    expect(await third.subscribe('crowd:1')).toEqual({ memberCount: 3 });
    const counted = await first.expectMessage('system:presence_diff', (diff: PresenceDiffPayload) => diff.count === 3);
    expect(counted.payload).toEqual({ count: 3 });
    const page = await first.presence('crowd:1', { limit: 2 });
    expect(page).toEqual({ members: [expect.any(Object), expect.any(Object)], count: 3, next: 2 });
    const rest = await first.presence('crowd:1', { since: 2 });
    expect(rest).toEqual({ members: [expect.any(Object)], count: 3 });
    const everyone = [...page.members, ...rest.members];
    expect(everyone.map((member) => member.userId).sort()).toEqual(['c1', 'c2', 'c3']);
  });

  it('answers the presence frame with the members, to subscribers only', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    await alice.subscribe('room:query');
    await bob.subscribe('room:query');
    const answer = await alice.presence('room:query');
    expect(answer).toEqual({
      members: expect.arrayContaining([{ userId: 'alice', info: { name: 'ALICE' } }]),
      count: 2,
    });
    expect(answer.members).toHaveLength(2);
    expect(await realtime().getPresence('room:query')).toEqual(answer.members);

    const outsider = await connect('carol');
    await expect(outsider.presence('room:query')).rejects.toMatchObject({ code: ErrorCode.NOT_SUBSCRIBED });
  });

  it('refuses presence on a channel without it', async () => {
    const alice = await connect('alice');
    expect(await alice.subscribe('news:sports')).toEqual({});
    await expect(alice.presence('news:sports')).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
      message: 'Channel "news:sports" does not offer presence',
    });
    await expect(realtime().getPresence('news:sports')).rejects.toThrow('Channel "news:sports" has no presence');
    alice.sendRaw({ type: 'presence', id: 'no-channel' });
    expect(await alice.expectMessage('error')).toMatchObject({
      replyTo: 'no-channel',
      error: { code: ErrorCode.BAD_REQUEST },
    });
  });

  it('takes member info from canJoin when it returns an object', async () => {
    const alice = await connect('alice');
    expect(await alice.subscribe('table:1')).toEqual({
      members: [{ userId: 'alice', info: { seat: 'seat-of-alice' } }],
      memberCount: 1,
    });
  });

  it('refuses a join whose member info is too large, and keeps the channel as it was', async () => {
    const alice = await connect('alice');
    await alice.subscribe('table:2');
    const crowd = await connect('crowd');
    await expect(crowd.subscribe('table:2')).rejects.toMatchObject({ code: ErrorCode.INTERNAL });
    expect(kit.logger.find('error', 'TableChannel.canJoin returned bad member info for user "crowd"')).toBeDefined();
    await crowd.expectNoMessage();
    expect(await realtime().getPresence('table:2')).toEqual([{ userId: 'alice', info: { seat: 'seat-of-alice' } }]);
    // The connection itself is fine: its identity's info is small enough for other channels.
    await expect(crowd.subscribe('room:elsewhere')).resolves.toBeDefined();
  });

  it('refuses the handshake when the authenticator returns info that is too large', async () => {
    await expect(connect('huge')).rejects.toMatchObject({ code: 'HANDSHAKE_REFUSED', status: 401 });
    expect(kit.logger.find('error', 'bad "info" for user "huge"')).toBeDefined();
  });

  it('lets server code subscribe a connection to a presence channel, as a member', async () => {
    const alice = await connect('alice');
    await alice.subscribe('room:server');
    const bob = await connect('bob');
    expect(await realtime().subscribe(bob.connectionId, 'room:server')).toBe(true);
    expect((await bob.expectMessage('subscribed', undefined, { channel: 'room:server' })).payload).toEqual({
      members: expect.arrayContaining([{ userId: 'bob', info: { name: 'BOB' } }]),
      memberCount: 2,
    });
    await alice.expectPresence('room:server', { joins: ['bob'] });
    expect(await realtime().unsubscribe(bob.connectionId, 'room:server')).toBe(true);
    await alice.expectPresence('room:server', { leaves: ['bob'] });
  });

  it('forgets every member once they are gone', async () => {
    const clients = await Promise.all(['p', 'q', 'r'].map((user) => connect(user)));
    await Promise.all(clients.map((client) => client.subscribe('room:empty')));
    expect(await realtime().getPresence('room:empty')).toHaveLength(3);
    const ids = clients.map((client) => client.connectionId);
    await Promise.all(clients.map((client) => client.close()));
    // Disconnect hooks run once a connection has left its channels.
    await Promise.all(ids.map((id) => Departures.log.waitFor((client) => client.id === id)));
    expect(await realtime().getPresence('room:empty')).toEqual([]);
  });
});

@Channel('lobby:{id}', { public: true, presence: true })
class LobbyChannel {}

@Module({ imports: [RealtimeModule.forRoot()], providers: [LobbyChannel] })
class AnonymousModule {}

describe.each(TRANSPORTS)('presence with anonymous connections, %s', (transport) => {
  const kit = kitAroundSuite(AnonymousModule, transport);

  it('lets them see the members without being one', async () => {
    const first = await kit.rt.connect();
    const second = await kit.rt.connect();
    expect(await first.subscribe('lobby:1')).toEqual({ members: [], memberCount: 0 });
    expect(await second.subscribe('lobby:1')).toEqual({ members: [], memberCount: 0 });
    await first.expectNoMessage('system:presence_diff');
  });
});
