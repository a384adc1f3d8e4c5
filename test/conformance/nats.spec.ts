import { afterAll, beforeAll } from '@jest/globals';
import { natsRealtime } from 'nestjs-realtime/nats';
import { OwnNats } from '../support/nats-server.js';
import { describeBroker } from './broker.conformance.js';
import { describeConnectionCounter } from './connection-counter.conformance.js';
import { describeHistoryStore } from './history-store.conformance.js';
import { describePresenceStore } from './presence-store.conformance.js';
import { describeRateLimitStore } from './rate-limit-store.conformance.js';
import { startedPair } from './test-context.js';
import { describeNeeding } from '../support/programs.js';

describeNeeding('nats-server')('on NATS', () => {
  // The same suites as on Redis, on a nats-server -js this file starts.
  let nats: OwnNats;

  beforeAll(async () => {
    nats = await OwnNats.start();
  });

  afterAll(async () => {
    await nats?.remove();
  });

  /** Two instances of one app on the same NATS: same prefix (a fresh one per test), separate connections. */
  function twoInstances() {
    const prefix = nats.prefix();
    return [
      natsRealtime({ servers: nats.url, prefix, sharedRateLimits: true }),
      natsRealtime({ servers: nats.url, prefix, sharedRateLimits: true }),
    ] as const;
  }

  describeBroker('NatsBroker', () => {
    const [a, b] = twoInstances();
    return Promise.resolve({ brokers: [a.broker, b.broker], close: () => Promise.resolve() });
  });

  describePresenceStore('NatsPresenceStore', () => {
    const [a, b] = twoInstances();
    return startedPair(a.presenceStore, b.presenceStore);
  });

  describeHistoryStore('NatsHistoryStore', () => {
    const [a, b] = twoInstances();
    return startedPair(a.historyStore, b.historyStore);
  });

  describeConnectionCounter('NatsConnectionCounter', () => {
    const [a, b] = twoInstances();
    return startedPair(a.connectionCounter, b.connectionCounter);
  });

  describeRateLimitStore('NatsRateLimitStore', () => {
    const [a, b] = twoInstances();
    return startedPair(a.rateLimitStore!, b.rateLimitStore!);
  });
});
