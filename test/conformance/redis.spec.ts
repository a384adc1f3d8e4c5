import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { redisRealtime } from 'nestjs-realtime/redis';
import { type TestRedis, useTestRedis } from '../support/redis-server.js';
import { describeNeeding } from '../support/programs.js';
import { describeSharedBackendConformance } from 'nestjs-realtime/backend';

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

  describeSharedBackendConformance(runner, 'RedisRealtime', twoInstances);
});
