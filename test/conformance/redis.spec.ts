import { afterAll, beforeAll } from '@jest/globals';
import { redisRealtime } from 'nestjs-realtime/redis';
import { type TestRedis, useTestRedis } from '../support/redis-server.js';
import { describeBroker } from './broker.conformance.js';
import { describeConnectionCounter } from './connection-counter.conformance.js';
import { describeHistoryStore } from './history-store.conformance.js';
import { describePresenceStore } from './presence-store.conformance.js';
import { TEST_CONTEXT } from './test-context.js';

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
  return [redisRealtime({ url: redis.url, keyPrefix }), redisRealtime({ url: redis.url, keyPrefix })] as const;
}

/** Starts one backend of each instance (as nodes a and b) and closes both. */
async function started<
  T extends { start(context: ReturnType<typeof TEST_CONTEXT>): Promise<void>; close(): Promise<void> },
>(a: T, b: T): Promise<{ nodes: [T, T]; close(): Promise<void> }> {
  await a.start(TEST_CONTEXT('node-a'));
  await b.start(TEST_CONTEXT('node-b'));
  return { nodes: [a, b], close: async () => void (await Promise.all([a.close(), b.close()])) };
}

describeBroker('RedisBroker', () => {
  const [a, b] = twoInstances();
  return Promise.resolve({ brokers: [a.broker, b.broker], close: () => Promise.resolve() });
});

describePresenceStore('RedisPresenceStore', () => {
  const [a, b] = twoInstances();
  return started(a.presenceStore, b.presenceStore);
});

describeHistoryStore('RedisHistoryStore', () => {
  const [a, b] = twoInstances();
  return started(a.historyStore, b.historyStore);
});

describeConnectionCounter('RedisConnectionCounter', () => {
  const [a, b] = twoInstances();
  return started(a.connectionCounter, b.connectionCounter);
});
