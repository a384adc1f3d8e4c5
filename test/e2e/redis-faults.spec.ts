import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { Module, type Type } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Channel, ErrorCode, RealtimeModule, RealtimeService } from 'nestjs-realtime';
import { type RedisRealtimeOptions, RedisUnavailableError, redisRealtime } from 'nestjs-realtime/redis';
import { type TestApp, startApp } from '../support/create-app.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { OwnRedis } from '../support/redis-server.js';
import { waitUntil } from '../support/wait-until.js';
import { TestClient, ofType } from '../support/test-client.js';
import { describeNeeding } from '../support/programs.js';

@Channel('room:{roomId}', { public: true, presence: true })
class RoomChannel {}

@Channel('news:{topic}', { public: true })
class NewsChannel {}

function instanceModule(redis: RedisRealtimeOptions): Type {
  @Module({
    imports: [
      RealtimeModule.forRoot({
        authenticate: tokenIsUserId,
        heartbeatIntervalMs: 1000,
        heartbeatTimeoutMs: 5000,
        ...redisRealtime({ nodeTimeoutMs: 600, commandTimeoutMs: 1000, ...redis }),
      }),
    ],
    providers: [RoomChannel, NewsChannel],
  })
  class InstanceModule {}
  return InstanceModule;
}

const isChat = ofType('chat:group');

describeNeeding('redis-server')('Redis faults (a redis-server this test starts and stops)', () => {
  let redis: OwnRedis;
  const apps: TestApp[] = [];
  const open: TestClient[] = [];

  async function start(options: RedisRealtimeOptions = {}): Promise<TestApp> {
    const app = await startApp(instanceModule({ url: redis.url, ...options }));
    apps.push(app);
    return app;
  }

  async function connect(app: TestApp, user: string): Promise<TestClient> {
    const client = await TestClient.connect(app.url, { token: user });
    open.push(client);
    return client;
  }

  beforeAll(async () => {
    redis = await OwnRedis.start();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
    await Promise.all(apps.splice(0).map((app) => app.app.close()));
    await redis.restart(); // running again for the next test
  });

  afterAll(async () => {
    await redis.stop();
  });

  it('fails the start naming the address when Redis is unreachable', async () => {
    await redis.stop();
    const attempt = startApp(instanceModule({ url: redis.url }));
    await expect(attempt).rejects.toThrow(RedisUnavailableError);
    await expect(attempt).rejects.toThrow(
      new RegExp(`Cannot start: Redis at 127.0.0.1:${redis.port} is unavailable \\(.*ECONNREFUSED.*\\)`),
    );
  });

  it('starts degraded with startWhenUnavailable, and serves across instances once Redis is up', async () => {
    await redis.stop();
    const first = await start({ startWhenUnavailable: true });
    const service = first.app.get(RealtimeService);
    expect(service.health()).toMatchObject({ up: false, broker: { up: false } });
    expect(service.health().broker.reason).toContain(`Redis at 127.0.0.1:${redis.port} is unreachable`);
    await expect(service.broadcastAll({ type: 'announce', payload: 'x' })).rejects.toThrow(RedisUnavailableError);

    await redis.restart();
    expect(await waitUntil(() => service.health().up)).toBe(true);
    const second = await start();
    const reader = await connect(second, 'reader');
    await reader.subscribe('news:today');
    await service.broadcastToChannel('news:today', { type: 'chat:group', payload: 'back' });
    expect((await reader.next(isChat)).payload).toBe('back');
  });

  it('survives a Redis restart: local delivery goes on, publishes reject, then it reconnects and resubscribes', async () => {
    const a = await start();
    const b = await start();
    const [serviceA, serviceB] = [a, b].map((app) => app.app.get(RealtimeService));
    const alice = await connect(a, 'alice');
    const bob = await connect(b, 'bob');
    for (const client of [alice, bob]) {
      await client.subscribe('room:r');
      await client.subscribe('news:n');
    }

    await redis.stop();
    expect(await waitUntil(() => !serviceA.health().up && !serviceB.health().up)).toBe(true);
    expect(serviceA.health().broker.reason).toMatch(/unreachable/);

    // A publish rejects at once, saying what happened; this instance's own subscribers still get it.
    await expect(serviceA.broadcastToChannel('news:n', { type: 'chat:group', payload: 'local' })).rejects.toThrow(
      /delivered to this instance's connections only/,
    );
    expect((await alice.next(isChat)).payload).toBe('local');
    // Clients are still served: pings, and joins of channels that need no store; a presence join fails clearly.
    await alice.sync();
    const carol = await connect(a, 'carol');
    expect((await carol.subscribe('news:n')).type).toBe('subscribed');
    expect((await carol.subscribe('room:r')).error?.code).toBe(ErrorCode.INTERNAL);

    await redis.restart();
    expect(await waitUntil(() => serviceA.health().up && serviceB.health().up)).toBe(true);
    const inspector = new Redis(redis.url);
    try {
      // Subscriptions are renewed after the reconnect (two instances with members in news:n).
      const subscribers = async () =>
        ((await inspector.pubsub('NUMSUB', 'realtime:{channel:news:n}')) as [string, number])[1];
      expect(await waitUntil(async () => (await subscribers()) === 2)).toBe(true);
    } finally {
      inspector.disconnect();
    }
    await serviceA.broadcastToChannel('news:n', { type: 'chat:group', payload: 'across again' });
    expect((await bob.next((frame) => isChat(frame) && frame.payload === 'across again')).channel).toBe('news:n');

    // Redis came back empty: each instance put its members back.
    const members = async () => (await serviceB.getPresence('room:r')).map((member) => member.userId).sort();
    expect(await waitUntil(async () => (await members()).join() === 'alice,bob')).toBe(true);
  });
});
