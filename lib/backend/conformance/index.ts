export type { ConformanceAssertions, ConformanceMatchers, ConformanceRunner } from './runner.js';
export { conformanceContext, startedPair, type StartedPair } from './context.js';
export type { TwoNodes } from './two-nodes.js';
export { describeBrokerConformance, type BrokerBackend } from './broker.js';
export { describePresenceStoreConformance, type PresenceBackend } from './presence-store.js';
export { describeHistoryStoreConformance, type HistoryBackend } from './history-store.js';
export { describeConnectionCounterConformance, type CounterBackend } from './connection-counter.js';
export { describeRateLimitStoreConformance, type RateLimitBackend } from './rate-limit-store.js';
export { describeSharedBackendConformance, type BackendSet } from './shared-backend.js';
