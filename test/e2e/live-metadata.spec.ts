import type { IncomingMessage } from 'node:http';
import { type CanActivate, type ExecutionContext, Injectable, Module, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { WebSocket } from 'ws';
import {
  Channel,
  ChannelName,
  ConnectedClient,
  ErrorCode,
  OnMessage,
  Payload,
  type RealtimeConnection,
  type RealtimeIdentity,
  RealtimeModule,
  RealtimeService,
  getHandshakeToken,
} from 'nestjs-realtime';
import { RealtimeClient as SdkClient } from 'nestjs-realtime/client';
import type { TestApp } from '../support/create-app.js';
import { redisInstancesAroundSuite, serverAroundSuite } from '../support/suites.js';
import { TestClient, ofType } from '../support/test-client.js';
import { describeNeeding } from '../support/programs.js';

/** The token is the user id; `fat` brings metadata past the limit; everyone starts as a `member`. */
function authenticate(request: IncomingMessage): RealtimeIdentity | null {
  const token = getHandshakeToken(request);
  if (token === undefined) {
    return null;
  }
  if (token === 'fat') {
    return { userId: token, metadata: { blob: 'x'.repeat(600) } };
  }
  return { userId: token, metadata: { role: 'member' }, info: { name: token.toUpperCase() } };
}

const ROLE = 'test:role';
const Role = (role: string) => SetMetadata(ROLE, role);

/** Reads the connection's metadata on every frame: it must see what `setMetadata` changed. */
@Injectable()
class RoleGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}
  canActivate(context: ExecutionContext): boolean {
    const role = this.reflector.get<string | undefined>(ROLE, context.getHandler());
    return role === undefined || context.switchToWs().getClient<RealtimeConnection>().metadata.role === role;
  }
}

@Channel()
@UseGuards(RoleGuard)
class AccountHandlers {
  @OnMessage('account:promote')
  promote(@ConnectedClient() client: RealtimeConnection): Readonly<Record<string, unknown>> {
    return client.setMetadata({ role: 'admin' });
  }

  @OnMessage('account:set')
  set(@ConnectedClient() client: RealtimeConnection, @Payload() patch: Record<string, unknown>): object {
    return client.setMetadata(patch);
  }

  @OnMessage('admin:purge')
  @Role('admin')
  purge(): string {
    return 'purged';
  }

  @OnMessage('account:whoami')
  whoami(@ConnectedClient() client: RealtimeConnection): object {
    return client.metadata;
  }
}

@Channel('room:{id}', { public: true, presence: true })
class RoomChannel {
  constructor(private readonly realtime: RealtimeService) {}

  /** Sets the sender's status in the room, keeping the rest of its info. */
  @OnMessage('status:set')
  status(
    @ConnectedClient() client: RealtimeConnection,
    @ChannelName() channel: string,
    @Payload() status: string,
  ): Promise<boolean> {
    return this.realtime.setPresenceInfo(channel, client.userId!, { ...client.info, status });
  }
}

@Channel('plain:{id}', { public: true })
class PlainChannel {}

const options = { authenticate, maxMetadataEntries: 4, maxMetadataBytes: 256 };

@Module({
  imports: [RealtimeModule.forRoot(options)],
  providers: [AccountHandlers, RoomChannel, PlainChannel, RoleGuard],
})
class MetadataModule {}

const presence = ofType('system:presence');

describe('on one server', () => {
  const suite = serverAroundSuite(MetadataModule);
  const connect = (user: string) => suite.connect(user);
  let realtime: RealtimeService;
  let server: TestApp;

  beforeAll(() => {
    ({ realtime, server } = suite);
  });

  describe('connection metadata that changes', () => {
    it('set from a handler, is what guards see on the next frame', async () => {
      const alice = await connect('alice');
      expect((await alice.request({ type: 'admin:purge' })).error?.code).toBe(ErrorCode.FORBIDDEN);
      expect((await alice.request({ type: 'account:promote' })).payload).toEqual({ role: 'admin' });
      expect((await alice.request({ type: 'admin:purge' })).payload).toBe('purged');
      expect(realtime.getConnection(alice.connectionId)?.metadata).toEqual({ role: 'admin' });
    });

    it('set by the service, is seen by handlers, guards and connection queries; undefined removes a key', async () => {
      const bob = await connect('bob');
      expect(realtime.setMetadata(bob.connectionId, { role: 'admin', tier: 'gold' })).toEqual({
        role: 'admin',
        tier: 'gold',
      });
      expect((await bob.request({ type: 'account:whoami' })).payload).toEqual({ role: 'admin', tier: 'gold' });
      expect((await bob.request({ type: 'admin:purge' })).payload).toBe('purged');
      expect(realtime.getUserConnections('bob')[0].metadata).toEqual({ role: 'admin', tier: 'gold' });
      expect(realtime.getConnections().find((c) => c.id === bob.connectionId)?.metadata.tier).toBe('gold');
      realtime.setMetadata(bob.connectionId, { tier: undefined });
      expect((await bob.request({ type: 'account:whoami' })).payload).toEqual({ role: 'admin' });
    });

    it('is bounded by count and size, refused with an error naming the limit, and left unchanged', async () => {
      const carol = await connect('carol');
      const id = carol.connectionId;
      expect(() => realtime.setMetadata(id, { a: 1, b: 2, c: 3, d: 4 })).toThrow(
        'metadata has 5 keys, more than maxMetadataEntries (4)',
      );
      expect(() => realtime.setMetadata(id, { note: 'y'.repeat(300) })).toThrow(/more than maxMetadataBytes \(256\)/);
      expect(() => realtime.setMetadata(id, { big: 10n })).toThrow(/metadata must be JSON/);
      expect(() => realtime.setMetadata(id, JSON.parse('{"__proto__":{"x":1}}') as Record<string, unknown>)).toThrow(
        /__proto__/,
      );
      expect(() => realtime.setMetadata(id, 'role=admin' as never)).toThrow(TypeError);
      expect(() => realtime.setMetadata('', {})).toThrow(/connectionId/);
      expect(realtime.setMetadata('nowhere.1', { a: 1 })).toBeUndefined();
      expect(realtime.getConnection(id)?.metadata).toEqual({ role: 'member' });

      const refused = await carol.request({ type: 'account:set', payload: { note: 'z'.repeat(300) } });
      expect(refused.error?.code).toBe(ErrorCode.INTERNAL);
      expect(server.logger.find('error', 'maxMetadataBytes')).toBeDefined();
      expect((await carol.request({ type: 'account:whoami' })).payload).toEqual({ role: 'member' });
    });

    it('from the authenticator is held to the same bounds: past them the handshake is refused', async () => {
      expect((await TestClient.refusal(server.url, { token: 'fat' })).status).toBe(401);
      expect(server.logger.find('error', 'returned bad "metadata" for user "fat"')).toBeDefined();
    });
  });

  describe('presence info that changes while joined', () => {
    it('reaches every member connection once per user, and later joiners and queries see it', async () => {
      const [phone, laptop, bob] = await Promise.all([connect('alice'), connect('alice'), connect('bob')]);
      await Promise.all([phone.subscribe('room:1'), laptop.subscribe('room:1'), bob.subscribe('room:1')]);
      const ack = await phone.request({ type: 'status:set', channel: 'room:1', payload: 'away' });
      expect(ack.payload).toBe(true);
      const update = { type: 'system:presence', channel: 'room:1', timestamp: expect.any(Number) };
      const expected = { ...update, payload: { userId: 'alice', info: { name: 'ALICE', status: 'away' } } };
      for (const client of [phone, laptop, bob]) {
        expect(await client.next(presence)).toEqual(expected);
        await client.sync();
        expect(client.pending(presence)).toEqual([]);
      }
      const answer = await bob.request({ type: 'presence', channel: 'room:1' });
      expect(answer.payload).toEqual({
        members: expect.arrayContaining([{ userId: 'alice', info: { name: 'ALICE', status: 'away' } }]),
        count: 2,
      });
      const carol = await connect('carol');
      const joined = await carol.subscribe('room:1');
      expect((joined.payload as { members: unknown[] }).members).toContainEqual({
        userId: 'alice',
        info: { name: 'ALICE', status: 'away' },
      });
      expect(await realtime.getPresence('room:1')).toContainEqual({
        userId: 'alice',
        info: { name: 'ALICE', status: 'away' },
      });
    });

    it('is refused clearly: not a member (false, nothing sent), bad info, a channel without presence', async () => {
      const bob = await connect('bob');
      await bob.subscribe('room:2');
      expect(await realtime.setPresenceInfo('room:2', 'nobody', { status: 'busy' })).toBe(false);
      await expect(realtime.setPresenceInfo('room:2', 'bob', { blob: 'x'.repeat(2000) })).rejects.toThrow(
        /more than maxPresenceInfoBytes/,
      );
      await expect(realtime.setPresenceInfo('room:2', 'bob', ['busy'] as never)).rejects.toThrow(/plain object/);
      await expect(realtime.setPresenceInfo('plain:1', 'bob', {})).rejects.toThrow(/has no presence/);
      await bob.sync();
      expect(bob.pending(presence)).toEqual([]);
    });

    it('updates the client SDK member list and fires `update`', async () => {
      const client = new SdkClient(`${server.url.replace('http', 'ws')}/realtime`, {
        token: 'dana',
        WebSocket: WebSocket,
      });
      const erin = await connect('erin');
      try {
        await client.connect();
        const room = client.subscribe('room:3');
        await room.ready;
        await erin.subscribe('room:3');
        const updated = new Promise((resolve) => room.on('update', resolve));
        await erin.request({ type: 'status:set', channel: 'room:3', payload: 'busy' });
        expect(await updated).toEqual({ userId: 'erin', info: { name: 'ERIN', status: 'busy' } });
        expect(room.members).toContainEqual({ userId: 'erin', info: { name: 'ERIN', status: 'busy' } });
      } finally {
        client.close();
      }
    });
  });
});

describeNeeding('redis-server')('presence info that changes, across instances on Redis', () => {
  const suite = redisInstancesAroundSuite(2, options, [RoomChannel]);

  it('goes out once per user to the whole cluster, and every instance answers with the new info', async () => {
    const connect = (instance: number, user: string) => suite.connect(instance, user);
    const [phone, laptop, bob] = await Promise.all([connect(0, 'alice'), connect(1, 'alice'), connect(1, 'bob')]);
    await Promise.all([phone.subscribe('room:r'), laptop.subscribe('room:r'), bob.subscribe('room:r')]);
    await phone.request({ type: 'status:set', channel: 'room:r', payload: 'busy' });
    const info = { name: 'ALICE', status: 'busy' };
    for (const client of [phone, laptop, bob]) {
      expect((await client.next(presence)).payload).toEqual({ userId: 'alice', info });
      await client.sync();
      expect(client.pending(presence)).toEqual([]);
    }
    const onOther = suite.realtime(1);
    expect(await onOther.getPresence('room:r')).toContainEqual({ userId: 'alice', info });
    expect(await onOther.setPresenceInfo('room:r', 'nobody', {})).toBe(false);
  });
});
