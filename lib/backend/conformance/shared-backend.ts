import type { Broker } from '../../broker/broker.js';
import type { ConnectionCounter } from '../../connection/connection-counter.js';
import type { HistoryStore } from '../../history/history-store.js';
import type { PresenceStore } from '../../presence/presence-store.js';
import type { RateLimitStore } from '../../protection/rate-limit-store.js';
import { describeBrokerConformance } from './broker.js';
import { describeConnectionCounterConformance } from './connection-counter.js';
import { startedPair } from './context.js';
import { describeHistoryStoreConformance } from './history-store.js';
import { describePresenceStoreConformance } from './presence-store.js';
import { describeRateLimitStoreConformance } from './rate-limit-store.js';
import type { ConformanceRunner } from './runner.js';

/** The backends one factory (`redisRealtime()`, `natsRealtime()`, yours) makes for one app instance. */
export interface BackendSet {
  readonly broker: Broker;
  readonly presenceStore: PresenceStore;
  readonly historyStore: HistoryStore;
  readonly connectionCounter: ConnectionCounter;
  /** Only when rate limits are shared. */
  readonly rateLimitStore?: RateLimitStore;
}

/**
 * Every conformance suite on a backend shared by several instances: `twoInstances` makes the backends of two app
 * instances on the same store (a fresh namespace per call: it is called once per test, never while declaring).
 * The rate-limit store's suite runs unless `rateLimitStore: false` (a backend that does not share rate limits).
 */
export function describeSharedBackendConformance(
  runner: ConformanceRunner,
  name: string,
  twoInstances: () => readonly [BackendSet, BackendSet],
  options: { readonly rateLimitStore?: boolean } = {},
): void {
  describeBrokerConformance(runner, `${name}: Broker`, () => {
    const [a, b] = twoInstances();
    return Promise.resolve({ brokers: [a.broker, b.broker], close: () => Promise.resolve() });
  });
  describePresenceStoreConformance(runner, `${name}: PresenceStore`, () => {
    const [a, b] = twoInstances();
    return startedPair(a.presenceStore, b.presenceStore);
  });
  describeHistoryStoreConformance(runner, `${name}: HistoryStore`, () => {
    const [a, b] = twoInstances();
    return startedPair(a.historyStore, b.historyStore);
  });
  describeConnectionCounterConformance(runner, `${name}: ConnectionCounter`, () => {
    const [a, b] = twoInstances();
    return startedPair(a.connectionCounter, b.connectionCounter);
  });
  if (options.rateLimitStore !== false) {
    describeRateLimitStoreConformance(runner, `${name}: RateLimitStore`, () => {
      const [a, b] = twoInstances();
      if (a.rateLimitStore === undefined || b.rateLimitStore === undefined) {
        throw new Error(`${name} made no rateLimitStore: share rate limits, or pass { rateLimitStore: false }`);
      }
      return startedPair(a.rateLimitStore, b.rateLimitStore);
    });
  }
}
