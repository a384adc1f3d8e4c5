import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { LocalBroker, MemoryHistoryStore, MemoryPresenceStore } from 'nestjs-realtime';
import {
  MemoryConnectionCounter,
  MemoryRateLimitStore,
  describeBrokerConformance,
  describeConnectionCounterConformance,
  describeHistoryStoreConformance,
  describePresenceStoreConformance,
  describeRateLimitStoreConformance,
  conformanceContext,
} from 'nestjs-realtime/backend';

/** Jest's functions, for the library's runner-agnostic conformance suites. */
const runner = { describe, it, expect, beforeEach, afterEach };

// The embedded defaults serve one node: both "nodes" of the suites are the same store.
describeBrokerConformance(
  runner,
  'LocalBroker',
  () => Promise.resolve({ brokers: [new LocalBroker()], close: () => Promise.resolve() }),
  1,
);

describePresenceStoreConformance(runner, 'MemoryPresenceStore', async () => {
  const store = new MemoryPresenceStore();
  await store.start(conformanceContext('node-a'));
  return { nodes: [store, store], close: () => store.close() };
});

describeHistoryStoreConformance(runner, 'MemoryHistoryStore', async () => {
  const store = new MemoryHistoryStore();
  await store.start(conformanceContext('node-a'));
  return { nodes: [store, store], close: () => store.close() };
});

describeConnectionCounterConformance(runner, 'MemoryConnectionCounter', async () => {
  const counter = new MemoryConnectionCounter();
  await counter.start(conformanceContext('node-a'));
  return { nodes: [counter, counter], close: () => counter.close() };
});

describeRateLimitStoreConformance(runner, 'MemoryRateLimitStore', async () => {
  const store = new MemoryRateLimitStore();
  await store.start(conformanceContext('node-a'));
  return { nodes: [store, store], close: () => store.close() };
});
