import { afterAll, beforeAll } from '@jest/globals';
import { redisRealtime } from 'nestjs-realtime/redis';
import { OwnRedisCluster } from '../support/redis-cluster.js';
import { uniquePrefix } from '../support/redis-server.js';
import { describeBroker } from './broker.conformance.js';
import { describeConnectionCounter } from './connection-counter.conformance.js';
import { describeHistoryStore } from './history-store.conformance.js';
import { describePresenceStore } from './presence-store.conformance.js';
import { describeRateLimitStore } from './rate-limit-store.conformance.js';
import { startedPair } from './test-context.js';
import { describeNeeding } from '../support/programs.js';

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

  describeBroker('RedisBroker on a Redis Cluster', () => {
    const [a, b] = twoInstances();
    return Promise.resolve({ brokers: [a.broker, b.broker], close: () => Promise.resolve() });
  });

  describePresenceStore('RedisPresenceStore on a Redis Cluster', () => {
    const [a, b] = twoInstances();
    return startedPair(a.presenceStore, b.presenceStore);
  });

  describeHistoryStore('RedisHistoryStore on a Redis Cluster', () => {
    const [a, b] = twoInstances();
    return startedPair(a.historyStore, b.historyStore);
  });

  describeConnectionCounter('RedisConnectionCounter on a Redis Cluster', () => {
    const [a, b] = twoInstances();
    return startedPair(a.connectionCounter, b.connectionCounter);
  });

  describeRateLimitStore('RedisRateLimitStore on a Redis Cluster', () => {
    const [a, b] = twoInstances();
    return startedPair(a.rateLimitStore!, b.rateLimitStore!);
  });
});
