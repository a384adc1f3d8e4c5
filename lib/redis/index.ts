import { RedisBroker } from './redis-broker.js';
import { RedisConnectionCounter } from './redis-connection-counter.js';
import { RedisConnections } from './redis-connections.js';
import { RedisHistoryStore } from './redis-history-store.js';
import { type RedisRealtimeOptions, resolveRedisOptions } from './redis-options.js';
import { RedisNodeEntries } from './redis-node-entries.js';
import { RedisPresenceStore } from './redis-presence-store.js';
import { RedisRateLimitStore } from './redis-rate-limit-store.js';

export { RedisBroker } from './redis-broker.js';
export { RedisConnectionCounter } from './redis-connection-counter.js';
export { RedisUnavailableError } from './redis-connections.js';
export { RedisHistoryStore } from './redis-history-store.js';
export type { RedisRealtimeOptions } from './redis-options.js';
export { RedisPresenceStore } from './redis-presence-store.js';
export { RedisRateLimitStore } from './redis-rate-limit-store.js';

/** What `redisRealtime()` makes: spread it into the `RealtimeModule` options. */
export interface RedisRealtime {
  readonly broker: RedisBroker;
  readonly presenceStore: RedisPresenceStore;
  readonly historyStore: RedisHistoryStore;
  readonly connectionCounter: RedisConnectionCounter;
  /** With `sharedRateLimits: true`. */
  readonly rateLimitStore?: RedisRateLimitStore;
}

/**
 * Scale-out on Redis: a broker, a presence store, a history store and a connection counter that share two Redis
 * connections. Several instances with the same Redis (and `keyPrefix`) behave as one realtime server: broadcasts,
 * user messages and disconnects reach every instance; presence, history and `maxConnectionsPerUser` are
 * cluster-wide. Needs the `ioredis` package, loaded when the app starts. Options are validated here: a bad one throws naming it.
 *
 * @example
 * ```ts
 * RealtimeModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({
 *     authenticate: JwtAuthenticator,
 *     ...redisRealtime({ url: config.getOrThrow('REDIS_URL') }),
 *   }),
 * });
 * ```
 */
export function redisRealtime(options: RedisRealtimeOptions = {}): RedisRealtime {
  const resolved = resolveRedisOptions(options);
  const connections = new RedisConnections(resolved);
  const entries = new RedisNodeEntries(connections);
  return {
    broker: new RedisBroker(connections),
    presenceStore: new RedisPresenceStore(entries),
    historyStore: new RedisHistoryStore(connections),
    connectionCounter: new RedisConnectionCounter(entries),
    ...(resolved.sharedRateLimits ? { rateLimitStore: new RedisRateLimitStore(connections) } : {}),
  };
}
