import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { natsRealtime } from 'nestjs-realtime/nats';
import { OwnNats } from '../support/nats-server.js';
import { describeNeeding } from '../support/programs.js';
import { describeSharedBackendConformance } from 'nestjs-realtime/backend';

/** Jest's functions, for the library's runner-agnostic conformance suites. */
const runner = { describe, it, expect, beforeEach, afterEach };

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

  describeSharedBackendConformance(runner, 'NatsRealtime', twoInstances);
});
