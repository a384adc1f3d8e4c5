import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { redisRealtime } from 'nestjs-realtime/redis';
import { OwnRedisCluster } from '../support/redis-cluster.js';
import { uniquePrefix } from '../support/redis-server.js';
import { describeNeeding } from '../support/programs.js';
import { describeSharedBackendConformance } from 'nestjs-realtime/backend';

/** Jest's functions, for the library's runner-agnostic conformance suites. */
const runner = { describe, it, expect, beforeEach, afterEach };

describeNeeding('redis-server', 'redis-cli')('on a Redis Cluster', () => {
  // The same suites as on one Redis, on a real Redis Cluster of three primaries this file starts.
  let cluster: OwnRedisCluster;

  beforeAll(async () => {
    cluster = await OwnRedisCluster.start();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  /** Two instances of one app on the cluster: same key prefix (a fresh one per test), separate connections. */
  function twoInstances() {
    const keyPrefix = uniquePrefix();
    return [
      redisRealtime({ cluster: cluster.nodes, keyPrefix, sharedRateLimits: true }),
      redisRealtime({ cluster: cluster.nodes, keyPrefix, sharedRateLimits: true }),
    ] as const;
  }

  describeSharedBackendConformance(runner, 'RedisRealtime on a Redis Cluster', twoInstances);
});
