import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { redisRealtime } from 'nestjs-realtime/redis';
import { type TestRedis, useTestRedis } from '../support/redis-server.js';
import { describeNeeding } from '../support/programs.js';
import {
  describeBrokerConformance,
  describeConnectionCounterConformance,
  describeHistoryStoreConformance,
  describePresenceStoreConformance,
  describeRateLimitStoreConformance,
  startedPair,
} from 'nestjs-realtime/backend';

/** Jest's functions, for the library's runner-agnostic conformance suites. */
const runner = { describe, it, expect, beforeEach, afterEach };

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

  describeBrokerConformance(runner, 'RedisBroker', () => {
    const [a, b] = twoInstances();
    return Promise.resolve({ brokers: [a.broker, b.broker], close: () => Promise.resolve() });
  });

  describePresenceStoreConformance(runner, 'RedisPresenceStore', () => {
    const [a, b] = twoInstances();
    return startedPair(a.presenceStore, b.presenceStore);
  });

  describeHistoryStoreConformance(runner, 'RedisHistoryStore', () => {
    const [a, b] = twoInstances();
    return startedPair(a.historyStore, b.historyStore);
  });

  describeConnectionCounterConformance(runner, 'RedisConnectionCounter', () => {
    const [a, b] = twoInstances();
    return startedPair(a.connectionCounter, b.connectionCounter);
  });

  describeRateLimitStoreConformance(runner, 'RedisRateLimitStore', () => {
    const [a, b] = twoInstances();
    return startedPair(a.rateLimitStore!, b.rateLimitStore!);
  });
});
