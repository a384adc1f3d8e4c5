import { type RealtimeModuleOptions, jwtAuth } from 'nestjs-realtime';
import { natsRealtime } from 'nestjs-realtime/nats';
import { redisRealtime } from 'nestjs-realtime/redis';
import { sampleSecret } from './auth/sample-secret.js';

/**
 * The sample's realtime options: the library's secure defaults (origin check, rate limit, connection caps), with two
 * knobs from the environment so operators and load tests tune them without code changes:
 * - `REALTIME_RATE_LIMIT`: frames per second per user (default 100); `0` turns the limit off.
 * - `REALTIME_MAX_CONNECTIONS_PER_IP`: connections per IP address (default 100); `0` means no cap.
 * - `REALTIME_TRUST_PROXY`: how many reverse proxies in front of the sample to trust (default 0): the client's address
 *   is then read from `X-Forwarded-For`, and the host its page was loaded from from `X-Forwarded-Host` or
 *   `Forwarded` (see the deployment guide's nginx configuration).
 * - `REALTIME_TOKEN_WARNING_MS`: how long before its token expires a connection is told to refresh it (default
 *   60 000; tokens last 12 hours).
 * - `REDIS_URL`: run on Redis, so several sample processes behave as one server (default: in-process, no Redis);
 *   or `REDIS_CLUSTER_NODES` (`host:port,host:port,...`): the same on a Redis Cluster. `REDIS_NODE_TIMEOUT_MS` sets
 *   how soon a dead process's members are removed (default 15 000), and `REDIS_KEY_PREFIX` keeps apps that share a
 *   Redis apart (default `realtime:`).
 * - `NATS_URL`: the same on NATS with JetStream (`nats://host:port`); `REDIS_NODE_TIMEOUT_MS` applies there too.
 */
export function sampleRealtimeOptions(env: NodeJS.ProcessEnv): RealtimeModuleOptions {
  // The library's built-in JWT check: the token from GET /api/token (in a bearer.<token> subprotocol entry, as the
  // client SDK sends it), its sub as the user, its color claim as the presence info members see.
  const options: RealtimeModuleOptions = {
    path: '/realtime',
    authenticate: jwtAuth({ secret: sampleSecret(env), infoClaims: ['color'] }),
    // Every handler's @Payload() DTO (class-validator decorators) compiled at boot into a synchronous check;
    // properties a DTO does not declare are dropped. An invalid payload is answered VALIDATION_FAILED.
    validation: { whitelist: true },
    // The AsyncAPI document of the rooms and events: GET /asyncapi.json.
    asyncapi: { title: 'nestjs-realtime sample chat', version: '1.0.0' },
  };
  const rate = readCount(env, 'REALTIME_RATE_LIMIT');
  if (rate !== undefined) {
    options.rateLimit = rate === 0 ? false : { limit: rate, windowMs: 1000 };
  }
  const warning = readCount(env, 'REALTIME_TOKEN_WARNING_MS');
  if (warning !== undefined) {
    options.tokenExpiryWarningMs = warning;
  }
  const proxies = readCount(env, 'REALTIME_TRUST_PROXY');
  if (proxies !== undefined) {
    options.trustProxy = proxies;
  }
  const perIp = readCount(env, 'REALTIME_MAX_CONNECTIONS_PER_IP');
  if (perIp !== undefined) {
    options.maxConnectionsPerIp = perIp;
  }
  const backend = sampleBackend(env);
  if (backend === 'nats') {
    Object.assign(
      options,
      natsRealtime({ servers: env.NATS_URL, nodeTimeoutMs: readCount(env, 'REDIS_NODE_TIMEOUT_MS') }),
    );
  } else if (backend !== 'in-process') {
    const shared = {
      nodeTimeoutMs: readCount(env, 'REDIS_NODE_TIMEOUT_MS'),
      keyPrefix: env.REDIS_KEY_PREFIX || undefined,
    };
    const where = backend === 'redis' ? { url: env.REDIS_URL } : { cluster: env.REDIS_CLUSTER_NODES!.split(',') };
    Object.assign(options, redisRealtime({ ...where, ...shared }));
  }
  return options;
}

const BACKENDS = { REDIS_URL: 'redis', REDIS_CLUSTER_NODES: 'redis-cluster', NATS_URL: 'nats' } as const;

/** Which backend the environment selects; more than one of `REDIS_URL`, `REDIS_CLUSTER_NODES`, `NATS_URL` is an error. */
export function sampleBackend(env: NodeJS.ProcessEnv): 'in-process' | (typeof BACKENDS)[keyof typeof BACKENDS] {
  const set = (Object.keys(BACKENDS) as (keyof typeof BACKENDS)[]).filter((name) => env[name]);
  if (set.length > 1) {
    throw new Error(`Set one of REDIS_URL, REDIS_CLUSTER_NODES and NATS_URL, not ${set.join(' and ')}`);
  }
  return set.length === 0 ? 'in-process' : BACKENDS[set[0]];
}

function readCount(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') {
    return undefined;
  }
  if (!/^\d+$/.test(text.trim())) {
    throw new Error(`${name} must be a whole number (0 turns it off), got ${JSON.stringify(text)}`);
  }
  return Number(text.trim());
}
