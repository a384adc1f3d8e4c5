import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type Type } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Redis } from 'ioredis';
import { Channel, RealtimeModule, RealtimeService } from 'nestjs-realtime';
import { redisRealtime } from 'nestjs-realtime/redis';
import { type TestApp, startApp } from '../support/create-app.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { type TestRedis, useTestRedis } from '../support/redis-server.js';
import { type Frame, TestClient, announces, ofType } from '../support/test-client.js';
import { waitUntil } from '../support/wait-until.js';
import { describeNeeding } from '../support/programs.js';

@Channel('room:{roomId}', { public: true, presence: true })
class RoomChannel {}

@Channel('feed:{name}', { public: true, history: 500 })
class FeedChannel {}

const realtimeOptions = { authenticate: tokenIsUserId, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 5000 };

/** One instance of the app, configured in code. */
function instanceModule(url: string, keyPrefix: string): Type {
  @Module({
    imports: [RealtimeModule.forRoot({ ...realtimeOptions, ...redisRealtime({ url, keyPrefix }) })],
    providers: [RoomChannel, FeedChannel],
  })
  class InstanceModule {}
  return InstanceModule;
}

/** One instance of the app, configured from ConfigService (`REDIS_URL`), as most apps do. */
function configuredInstanceModule(url: string, keyPrefix: string): Type {
  @Module({
    imports: [
      ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ REDIS_URL: url, REDIS_PREFIX: keyPrefix })] }),
      RealtimeModule.forRootAsync({
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          ...realtimeOptions,
          ...redisRealtime({ url: config.getOrThrow<string>('REDIS_URL'), keyPrefix: config.get('REDIS_PREFIX') }),
        }),
      }),
    ],
    providers: [RoomChannel, FeedChannel],
  })
  class ConfiguredInstanceModule {}
  return ConfiguredInstanceModule;
}

const isChat = ofType('chat:group');
const kateJoined = announces('kate');
const kateLeft = announces('kate', 'leaves');

describeNeeding('redis-server')('three instances on one Redis', () => {
  let redis: TestRedis;
  let inspector: Redis;
  let prefix: string;
  const instances: TestApp[] = [];
  const services: RealtimeService[] = [];
  const open: TestClient[] = [];

  async function connect(instance: number, user: string): Promise<TestClient> {
    const client = await TestClient.connect(instances[instance].url, { token: user });
    open.push(client);
    return client;
  }

  /** Waits until every frame `client` got so far from `service`'s node is in: a marker sent after them arrives. */
  async function flushFrom(service: RealtimeService, client: TestClient): Promise<void> {
    const marker = `marker-${Math.random()}`;
    await service.sendToConnection(client.connectionId, { type: 'test:marker', payload: marker });
    await client.next((frame) => frame.type === 'test:marker' && frame.payload === marker);
    await client.sync();
  }

  beforeAll(async () => {
    redis = await useTestRedis();
    inspector = new Redis(redis.url);
    prefix = redis.prefix();
    instances.push(await startApp(configuredInstanceModule(redis.url, prefix)));
    instances.push(await startApp(instanceModule(redis.url, prefix), 'fastify'));
    instances.push(await startApp(instanceModule(redis.url, prefix)));
    services.push(...instances.map((instance) => instance.app.get(RealtimeService)));
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.app.close()));
    inspector.disconnect();
    await redis.stop();
  });

  it('broadcasts to a channel on every instance, once to each subscriber', async () => {
    const clients = [await connect(0, 'alice'), await connect(1, 'bob'), await connect(2, 'carol')];
    for (const client of clients) {
      await client.subscribe('room:broadcast');
    }
    await services[1].broadcastToChannel('room:broadcast', { type: 'chat:group', payload: 'hello' });
    for (const client of clients) {
      expect(await client.next(isChat)).toMatchObject({ channel: 'room:broadcast', payload: 'hello', sender: null });
      await flushFrom(services[1], client);
      expect(client.pending(isChat)).toEqual([]);
    }
  });

  it('subscribes an instance to a channel on Redis only while it has a member there', async () => {
    const topic = `${prefix}{channel:room:interest}`;
    const subscribers = async () => ((await inspector.pubsub('NUMSUB', topic)) as [string, number])[1];
    expect(await subscribers()).toBe(0);
    const alice = await connect(0, 'alice');
    const bob = await connect(1, 'bob');
    await alice.subscribe('room:interest');
    expect(await subscribers()).toBe(1);
    await bob.subscribe('room:interest');
    expect(await subscribers()).toBe(2);
    await alice.request({ type: 'unsubscribe', channel: 'room:interest' });
    await bob.close();
    // Unsubscribing from Redis follows the leave; the inspector's answer comes after the node's UNSUBSCRIBE.
    await expect(waitUntil(async () => (await subscribers()) === 0, 5000)).resolves.toBe(true);
  });

  it('sends to every device of a user on every instance, except the connections named', async () => {
    const phone = await connect(0, 'dave');
    const laptop = await connect(1, 'dave');
    const tablet = await connect(2, 'dave');
    await services[2].sendToUser('dave', { type: 'chat:private', payload: 'hi dave' }, { except: tablet.connectionId });
    expect((await phone.nextOfType('chat:private')).payload).toBe('hi dave');
    expect((await laptop.nextOfType('chat:private')).payload).toBe('hi dave');
    await flushFrom(services[2], tablet);
    expect(tablet.pending(ofType('chat:private'))).toEqual([]);
  });

  it('sends to one connection held by another instance', async () => {
    const erin = await connect(1, 'erin');
    await services[0].sendToConnection(erin.connectionId, { type: 'note', payload: 'just you' });
    expect((await erin.nextOfType('note')).payload).toBe('just you');
  });

  it('broadcasts to every connection of every instance', async () => {
    const clients = [await connect(0, 'f1'), await connect(1, 'f2'), await connect(2, 'f3')];
    await services[0].broadcastAll({ type: 'announce', payload: 'maintenance at noon' });
    for (const client of clients) {
      expect((await client.nextOfType('announce')).payload).toBe('maintenance at noon');
    }
  });

  it('disconnects every connection of a user on every instance', async () => {
    const phone = await connect(0, 'gina');
    const laptop = await connect(2, 'gina');
    const bystander = await connect(1, 'hank');
    await services[1].disconnect({ userId: 'gina' }, { code: 4003, reason: 'Banned' });
    expect(await phone.closed).toEqual({ code: 4003, reason: 'Banned' });
    expect(await laptop.closed).toEqual({ code: 4003, reason: 'Banned' });
    await bystander.sync();
  });

  it('counts connections on every instance, in total and per user', async () => {
    await connect(0, 'ivan');
    await connect(1, 'ivan');
    await connect(2, 'judy');
    // Counting is written to Redis as connections open and close; the clients are welcomed before it lands, and the
    // connections of earlier tests (closed by afterEach) may still be leaving the counts.
    await expect(waitUntil(async () => (await services[2].countConnections()) === open.length, 5000)).resolves.toBe(
      true,
    );
    expect(await services[1].countConnections('ivan')).toBe(2);
    expect(await services[0].countConnections('judy')).toBe(1);
  });

  it('keeps apps with different key prefixes apart on the same Redis', async () => {
    const other = await startApp(instanceModule(redis.url, redis.prefix()));
    try {
      const outsider = await TestClient.connect(other.url, { token: 'alice' });
      const insider = await connect(0, 'alice');
      await outsider.subscribe('room:shared-name');
      await insider.subscribe('room:shared-name');
      await services[1].broadcastToChannel('room:shared-name', { type: 'chat:group', payload: 'ours' });
      await other.app.get(RealtimeService).broadcastToChannel('room:shared-name', {
        type: 'chat:group',
        payload: 'theirs',
      });
      expect((await insider.next(isChat)).payload).toBe('ours');
      expect((await outsider.next(isChat)).payload).toBe('theirs');
      // Each got its own app's message; a leak would arrive before the marker each app sends after it.
      await flushFrom(services[1], insider);
      expect(insider.pending(isChat)).toEqual([]);
      expect(await services[0].countConnections('alice')).toBe(1);
      await outsider.close();
    } finally {
      await other.app.close();
    }
  });

  describe('presence', () => {
    it('has one member per user across instances, and announces joins and leaves once for the cluster', async () => {
      const watcher = await connect(2, 'watcher');
      await watcher.subscribe('room:presence');
      const phone = await connect(0, 'kate');
      const laptop = await connect(1, 'kate');
      const joined = await phone.subscribe('room:presence');
      expect((joined.payload as { members: { userId: string }[] }).members.map((m) => m.userId).sort()).toEqual([
        'kate',
        'watcher',
      ]);
      await laptop.subscribe('room:presence');
      await watcher.next(kateJoined);
      expect((await services[1].getPresence('room:presence')).map((member) => member.userId).sort()).toEqual([
        'kate',
        'watcher',
      ]);

      await phone.close();
      // kate is still in the room on instance 1: no leave yet. The laptop's leave comes through instance 1.
      await laptop.close();
      await watcher.next(kateLeft);
      expect((await services[0].getPresence('room:presence')).map((member) => member.userId)).toEqual(['watcher']);
      // A probe joins through each instance: that instance's diffs go out in order, so any other announcement of
      // kate it had would reach the watcher before the probe's.
      for (const index of [0, 1]) {
        const probe = await connect(index, `probe${index}`);
        await probe.subscribe('room:presence');
        const diff = await watcher.next(announces(`probe${index}`));
        expect(kateJoined(diff) || kateLeft(diff)).toBe(false);
      }
      expect(watcher.pending(kateJoined)).toEqual([]);
      expect(watcher.pending(kateLeft)).toEqual([]);
    });
  });

  describe('history', () => {
    it('recovers on another instance exactly what a client missed on the first', async () => {
      const channel = 'feed:recovery';
      const reader = await connect(0, 'reader');
      const { epoch } = (await reader.subscribe(channel)).payload as { epoch: string };
      await services[1].broadcastToChannel(channel, { type: 'chat:group', payload: 'a' });
      await services[2].broadcastToChannel(channel, { type: 'chat:group', payload: 'b' });
      const seen = [await reader.next(isChat), await reader.next(isChat)];
      await reader.close();
      for (const text of ['c', 'd', 'e']) {
        await services[1].broadcastToChannel(channel, { type: 'chat:group', payload: text });
      }
      const back = await connect(2, 'reader');
      const since = seen[1].offset;
      const reply = await back.request({ type: 'subscribe', channel, since, epoch });
      expect(reply.payload).toEqual({ epoch, offset: 5, recovered: true });
      await services[0].broadcastToChannel(channel, { type: 'chat:group', payload: 'f' });
      const frames: Frame[] = [];
      for (let i = 0; i < 4; i++) {
        frames.push(await back.next(isChat));
      }
      expect(frames.map((frame) => [frame.offset, frame.payload])).toEqual([
        [3, 'c'],
        [4, 'd'],
        [5, 'e'],
        [6, 'f'],
      ]);
    });

    it('delivers the messages of concurrent publishers on several instances in offset order, each once', async () => {
      const channel = 'feed:concurrent';
      const readers = [await connect(0, 'r0'), await connect(1, 'r1'), await connect(2, 'r2')];
      for (const reader of readers) {
        await reader.subscribe(channel);
      }
      const publishes: Promise<unknown>[] = [];
      for (let i = 0; i < 60; i++) {
        publishes.push(services[i % 3].broadcastToChannel(channel, { type: 'chat:group', payload: i }));
      }
      await Promise.all(publishes);
      for (const reader of readers) {
        const offsets: unknown[] = [];
        for (let i = 0; i < 60; i++) {
          offsets.push((await reader.next(isChat)).offset);
        }
        expect(offsets).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      }
    });
  });
});
