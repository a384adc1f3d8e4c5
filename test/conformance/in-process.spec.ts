import { LocalBroker, MemoryHistoryStore, MemoryPresenceStore } from 'nestjs-realtime';
import { describeBroker } from './broker.conformance.js';
import { describeHistoryStore } from './history-store.conformance.js';
import { describePresenceStore } from './presence-store.conformance.js';

// The embedded defaults serve one node: both "nodes" of the suites are the same store.
describeBroker('LocalBroker', () => Promise.resolve({ brokers: [new LocalBroker()], close: () => Promise.resolve() }));

describePresenceStore('MemoryPresenceStore', async () => {
  const store = new MemoryPresenceStore();
  await store.start();
  return { nodes: [store, store], close: () => store.close() };
});

describeHistoryStore('MemoryHistoryStore', () => {
  const store = new MemoryHistoryStore();
  return Promise.resolve({ nodes: [store, store], close: () => store.close() });
});
