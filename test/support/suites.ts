import { afterAll, afterEach, beforeAll } from '@jest/globals';
import { Module, type Type } from '@nestjs/common';
import { RealtimeModule, type RealtimeModuleOptions, RealtimeService } from 'nestjs-realtime';
import { type RedisRealtimeOptions, redisRealtime } from 'nestjs-realtime/redis';
import { type Platform, type TestApp, appAroundSuite, startApp } from './create-app.js';
import { type TestRedis, useTestRedis } from './redis-server.js';
import { type ConnectOptions, TestClient } from './test-client.js';

/** An app started around the enclosing `describe`; clients opened with `connect` are closed after each test. */
export interface SuiteServer {
  readonly server: TestApp;
  readonly realtime: RealtimeService;
  /** A client of `user` (none: anonymous), welcomed. */
  connect(user?: string, options?: ConnectOptions): Promise<TestClient>;
}

export function serverAroundSuite(module: Type, platform: Platform = 'express'): SuiteServer {
  const holder = appAroundSuite(module, platform);
  const clients = closedAfterEach();
  return {
    get server() {
      return holder.server;
    },
    get realtime() {
      return holder.server.app.get(RealtimeService);
    },
    connect: (user, options = {}) =>
      clients.track(TestClient.connect(holder.server.url, user === undefined ? options : { token: user, ...options })),
  };
}

/** Instances of one app on one Redis (their own key prefix), started around the enclosing `describe`. */
export interface RedisSuite {
  instance(index: number): TestApp;
  realtime(index: number): RealtimeService;
  /** A client of `user` on instance `index`, welcomed; closed after the test. */
  connect(index: number, user: string, options?: ConnectOptions): Promise<TestClient>;
}

/**
 * `count` instances of an app made of `options` (spread with the Redis backend) and `providers`, on a Redis of the
 * test's own (see `useTestRedis`), stopped after the suite.
 */
export function redisInstancesAroundSuite(
  count: number,
  options: RealtimeModuleOptions,
  providers: Type[],
  redisOptions: Omit<RedisRealtimeOptions, 'url' | 'keyPrefix'> = {},
): RedisSuite {
  let redis: TestRedis | undefined;
  const instances: TestApp[] = [];
  const clients = closedAfterEach();
  beforeAll(async () => {
    redis = await useTestRedis();
    const keyPrefix = redis.prefix();
    for (let index = 0; index < count; index++) {
      @Module({
        imports: [
          RealtimeModule.forRoot({ ...options, ...redisRealtime({ ...redisOptions, url: redis.url, keyPrefix }) }),
        ],
        providers,
      })
      class InstanceModule {}
      instances.push(await startApp(InstanceModule));
    }
  });
  afterAll(async () => {
    await Promise.all(instances.splice(0).map((instance) => instance.app.close()));
    await redis?.stop();
  });
  return {
    instance: (index) => instances[index],
    realtime: (index) => instances[index].app.get(RealtimeService),
    connect: (index, user, connectOptions = {}) =>
      clients.track(TestClient.connect(instances[index].url, { token: user, ...connectOptions })),
  };
}

/** Clients to close after each test of the enclosing `describe`. */
function closedAfterEach(): { track(client: Promise<TestClient>): Promise<TestClient> } {
  const open: TestClient[] = [];
  afterEach(async () => {
    for (const client of open.splice(0)) {
      client.resumeReading();
      await client.close();
    }
  });
  return {
    track: async (connecting) => {
      const client = await connecting;
      open.push(client);
      return client;
    },
  };
}
