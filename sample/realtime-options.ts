import type { RealtimeModuleOptions } from 'nestjs-realtime';
import { redisRealtime } from 'nestjs-realtime/redis';
import { SampleAuthenticator } from './auth/sample-authenticator.js';

/**
 * The sample's realtime options: the library's secure defaults (origin check, rate limit, connection caps), with two
 * knobs from the environment so operators and load tests tune them without code changes:
 * - `REALTIME_RATE_LIMIT`: frames per second per user (default 100); `0` turns the limit off.
 * - `REALTIME_MAX_CONNECTIONS_PER_IP`: connections per IP address (default 100); `0` means no cap.
 * - `REDIS_URL`: run on Redis, so several sample processes behave as one server (default: in-process, no Redis);
 *   or `REDIS_CLUSTER_NODES` (`host:port,host:port,...`): the same on a Redis Cluster. `REDIS_NODE_TIMEOUT_MS` sets
 *   how soon a dead process's members are removed (default 15 000), and `REDIS_KEY_PREFIX` keeps apps that share a
 *   Redis apart (default `realtime:`).
 */
export function sampleRealtimeOptions(env: NodeJS.ProcessEnv): RealtimeModuleOptions {
  const options: RealtimeModuleOptions = { path: '/realtime', authenticate: SampleAuthenticator };
  const rate = readCount(env, 'REALTIME_RATE_LIMIT');
  if (rate !== undefined) {
    options.rateLimit = rate === 0 ? false : { limit: rate, windowMs: 1000 };
  }
  const perIp = readCount(env, 'REALTIME_MAX_CONNECTIONS_PER_IP');
  if (perIp !== undefined) {
    options.maxConnectionsPerIp = perIp;
  }
  const backend = sampleBackend(env);
  if (backend !== 'in-process') {
    const shared = {
      nodeTimeoutMs: readCount(env, 'REDIS_NODE_TIMEOUT_MS'),
      keyPrefix: env.REDIS_KEY_PREFIX || undefined,
    };
    const where = backend === 'redis' ? { url: env.REDIS_URL } : { cluster: env.REDIS_CLUSTER_NODES!.split(',') };
    Object.assign(options, redisRealtime({ ...where, ...shared }));
  }
  return options;
}

/** Which backend the environment selects; both `REDIS_URL` and `REDIS_CLUSTER_NODES` is an error. */
export function sampleBackend(env: NodeJS.ProcessEnv): 'in-process' | 'redis' | 'redis-cluster' {
  const url = env.REDIS_URL || undefined;
  const cluster = env.REDIS_CLUSTER_NODES || undefined;
  if (url !== undefined && cluster !== undefined) {
    throw new Error('Set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both');
  }
  return url !== undefined ? 'redis' : cluster !== undefined ? 'redis-cluster' : 'in-process';
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
