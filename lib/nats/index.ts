import { NatsBroker } from './nats-broker.js';
import { NatsConnectionCounter } from './nats-connection-counter.js';
import { NatsConnections } from './nats-connections.js';
import { NatsHistoryStore } from './nats-history-store.js';
import { NatsNodeEntries } from './nats-node-entries.js';
import { type NatsRealtimeOptions, resolveNatsOptions } from './nats-options.js';
import { NatsPresenceStore } from './nats-presence-store.js';
import { NatsRateLimitStore } from './nats-rate-limit-store.js';

export { NatsBroker } from './nats-broker.js';
export { NatsConnectionCounter } from './nats-connection-counter.js';
export { NatsUnavailableError } from './nats-connections.js';
export { NatsHistoryStore } from './nats-history-store.js';
export type { NatsRealtimeOptions } from './nats-options.js';
export { NatsPresenceStore } from './nats-presence-store.js';
export { NatsRateLimitStore } from './nats-rate-limit-store.js';

/** What `natsRealtime()` makes: spread it into the `RealtimeModule` options. */
export interface NatsRealtime {
  readonly broker: NatsBroker;
  readonly presenceStore: NatsPresenceStore;
  readonly historyStore: NatsHistoryStore;
  readonly connectionCounter: NatsConnectionCounter;
  /** With `sharedRateLimits: true`. */
  readonly rateLimitStore?: NatsRateLimitStore;
}

/**
 * Scale-out on NATS: a broker on core NATS subjects, and presence, history and connection counts on JetStream (KV
 * buckets and a stream, created when missing), sharing one NATS connection. Several instances on the same NATS (and
 * `prefix`) behave as one realtime server. Needs `@nats-io/transport-node`, `@nats-io/jetstream` and `@nats-io/kv`,
 * loaded when the app starts, and a NATS server with JetStream (`nats-server -js`). Options are validated here.
 *
 * @example
 * ```ts
 * RealtimeModule.forRoot({ authenticate: JwtAuthenticator, ...natsRealtime({ servers: process.env.NATS_URL }) });
 * ```
 */
export function natsRealtime(options: NatsRealtimeOptions = {}): NatsRealtime {
  const resolved = resolveNatsOptions(options);
  const connections = new NatsConnections(resolved);
  const entries = new NatsNodeEntries(connections);
  return {
    broker: new NatsBroker(connections),
    presenceStore: new NatsPresenceStore(entries),
    historyStore: new NatsHistoryStore(connections),
    connectionCounter: new NatsConnectionCounter(entries),
    ...(resolved.sharedRateLimits ? { rateLimitStore: new NatsRateLimitStore(connections) } : {}),
  };
}
