// nestjs-realtime/backend: what authors of a broker or a store need (app authors configure backends through the
// root entry point and nestjs-realtime/redis or /nats). The conformance suites test a backend the way the built-in
// ones are tested: see ./conformance/index.ts.
export type { BackendContext } from './backend-context.js';
export {
  Broker,
  topicOf,
  type BrokerHealth,
  type BrokerListener,
  type BrokerMessage,
  type PublishReport,
} from '../broker/broker.js';
export { ClusterBroker } from '../broker/cluster-broker.js';
export { LocalBroker } from '../broker/local-broker.js';
export { PresenceStore, type PresenceExpiryListener, type PresenceMember } from '../presence/presence-store.js';
export { MemoryPresenceStore } from '../presence/memory-presence-store.js';
export { ConnectionCounter } from '../connection/connection-counter.js';
export { MemoryConnectionCounter } from '../connection/memory-connection-counter.js';
export {
  HistoryStore,
  withOffset,
  type AtomicAppendPublish,
  type HistoryDelivery,
  type HistoryEntry,
  type HistoryLimits,
  type HistoryPage,
  type HistoryPosition,
  type HistoryQuery,
  type KeptMessage,
} from '../history/history-store.js';
export { MemoryHistoryStore, type MemoryHistoryStoreOptions } from '../history/memory-history-store.js';
export { RateLimitStore, type RateLimitRule, type RateLimitVerdict } from '../protection/rate-limit-store.js';
export { MemoryRateLimitStore, type MemoryRateLimitStoreOptions } from '../protection/memory-rate-limit-store.js';
export * from './conformance/index.js';
