import { afterAll, beforeAll } from '@jest/globals';
import { redisRealtime } from 'nestjs-realtime/redis';
import { type TestRedis, useTestRedis } from '../support/redis-server.js';
import { describeBroker } from './broker.conformance.js';
import { describeConnectionCounter } from './connection-counter.conformance.js';
import { describeHistoryStore } from './history-store.conformance.js';
import { describePresenceStore } from './presence-store.conformance.js';
import { describeRateLimitStore } from './rate-limit-store.conformance.js';
import { startedPair } from './test-context.js';
import { describeNeeding } from '../support/programs.js';

describeNeeding('redis-server')('on Redis', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await useTestRedis();
  });

  afterAll(async () => {
    await redis.stop();
  });

  /** Two instances of one app: same Redis, same key prefix (a fresh one per test), separate connections. */
  function twoInstances() {
    const keyPrefix = redis.prefix();
    return [
      redisRealtime({ url: redis.url, keyPrefix, sharedRateLimits: true }),
      redisRealtime({ url: redis.url, keyPrefix, sharedRateLimits: true }),
    ] as const;
  }

  describeBroker('RedisBroker', () => {
    const [a, b] = twoInstances();
    return Promise.resolve({ brokers: [a.broker, b.broker], close: () => Promise.resolve() });
  });

  describePresenceStore('RedisPresenceStore', () => {
    const [a, b] = twoInstances();
    return startedPair(a.presenceStore, b.presenceStore);
  });

  describeHistoryStore('RedisHistoryStore', () => {
    const [a, b] = twoInstances();
    return startedPair(a.historyStore, b.historyStore);
  });

  describeConnectionCounter('RedisConnectionCounter', () => {
    const [a, b] = twoInstances();
    return startedPair(a.connectionCounter, b.connectionCounter);
  });

  describeRateLimitStore('RedisRateLimitStore', () => {
    const [a, b] = twoInstances();
    return startedPair(a.rateLimitStore!, b.rateLimitStore!);
  });
});
