import {
  LocalBroker,
  MemoryConnectionCounter,
  MemoryHistoryStore,
  MemoryPresenceStore,
  MemoryRateLimitStore,
} from 'nestjs-realtime';
import { describeBroker } from './broker.conformance.js';
import { describeConnectionCounter } from './connection-counter.conformance.js';
import { describeHistoryStore } from './history-store.conformance.js';
import { describePresenceStore } from './presence-store.conformance.js';
import { describeRateLimitStore } from './rate-limit-store.conformance.js';
import { TEST_CONTEXT } from './test-context.js';

// The embedded defaults serve one node: both "nodes" of the suites are the same store.
describeBroker(
  'LocalBroker',
  () => Promise.resolve({ brokers: [new LocalBroker()], close: () => Promise.resolve() }),
  1,
);

describePresenceStore('MemoryPresenceStore', async () => {
  const store = new MemoryPresenceStore();
  await store.start(TEST_CONTEXT('node-a'));
  return { nodes: [store, store], close: () => store.close() };
});

describeHistoryStore('MemoryHistoryStore', async () => {
  const store = new MemoryHistoryStore();
  await store.start(TEST_CONTEXT('node-a'));
  return { nodes: [store, store], close: () => store.close() };
});

describeConnectionCounter('MemoryConnectionCounter', async () => {
  const counter = new MemoryConnectionCounter();
  await counter.start(TEST_CONTEXT('node-a'));
  return { nodes: [counter, counter], close: () => counter.close() };
});

describeRateLimitStore('MemoryRateLimitStore', async () => {
  const store = new MemoryRateLimitStore();
  await store.start(TEST_CONTEXT('node-a'));
  return { nodes: [store, store], close: () => store.close() };
});
