import type { ClusterOptions, RedisOptions } from 'ioredis';
import { describeValue } from '../util/describe-value.js';
import {
  RealtimeOptionsError,
  check as checkOption,
  rejectUnknownKeys,
  isBoolean,
  isIntegerIn,
} from '../util/option-checks.js';

/** Options of `redisRealtime()`. */
export interface RedisRealtimeOptions {
  /** `redis://[[user]:password@]host[:port][/db]` (or `rediss://` for TLS). Default `redis://127.0.0.1:6379`. */
  readonly url?: string;
  /**
   * A Redis Cluster (or Valkey cluster) instead of one Redis: some of its nodes, as `'host:port'` strings (the
   * others are discovered). Channels then use sharded pub/sub (`SSUBSCRIBE`/`SPUBLISH`, Redis 7) and every key of a
   * channel (presence, history) lives on the channel's slot. Not with `url`.
   */
  readonly cluster?: readonly string[];
  /** More ioredis options (TLS, password, ...), applied over what `url` says; with `cluster`, to every node. */
  readonly redis?: RedisOptions;
  /** More ioredis Cluster options (`natMap`, `dnsLookup`, `scaleReads`, ...), with `cluster`. */
  readonly clusterOptions?: ClusterOptions;
  /** Prefix of every key and pub/sub channel, so several apps can share one Redis. Default `'realtime:'`. */
  readonly keyPrefix?: string;
  /**
   * An instance that has not sent a heartbeat for this long is dead: its presence members are removed and
   * their leave is announced once for each. Instances heartbeat every third of it, so a dead one's members
   * are gone within about 4/3 of it. Default 15 000 ms (from 300 to 600 000).
   */
  readonly nodeTimeoutMs?: number;
  /**
   * Also share rate-limit buckets through Redis (`rateLimitStore`), so per-user limits hold for the whole cluster,
   * not once per instance. Each check is one round trip that the frame waits for. Default false.
   */
  readonly sharedRateLimits?: boolean;
  /** A Redis command that has no answer after this long fails (nothing waits forever). Default 5 000 ms. */
  readonly commandTimeoutMs?: number;
  /**
   * When Redis is unreachable at boot: `false` (default) fails the app's start naming the address; `true` starts
   * degraded (health down, publishes rejected) and connects when Redis comes up.
   */
  readonly startWhenUnavailable?: boolean;
}

export interface ResolvedRedisOptions {
  readonly url: string;
  /** The cluster's seed nodes, or undefined for one Redis at `url`. */
  readonly cluster: readonly { host: string; port: number }[] | undefined;
  readonly clusterOptions: ClusterOptions;
  readonly redis: RedisOptions;
  readonly keyPrefix: string;
  readonly nodeTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly startWhenUnavailable: boolean;
  readonly sharedRateLimits: boolean;
}

/** Every option of `redisRealtime()`: unknown keys are refused, and the docs table is checked against it. */
export const REDIS_OPTION_KEYS = [
  'url',
  'cluster',
  'clusterOptions',
  'redis',
  'keyPrefix',
  'nodeTimeoutMs',
  'commandTimeoutMs',
  'startWhenUnavailable',
  'sharedRateLimits',
];

/** Validates `redisRealtime()`'s options; a bad one throws naming it and the value. */
export function resolveRedisOptions(options: RedisRealtimeOptions = {}): ResolvedRedisOptions {
  if (typeof options !== 'object' || options === null) {
    throw new RealtimeOptionsError(`redisRealtime() expects an options object, got ${describeValue(options)}`);
  }
  rejectUnknownKeys('redisRealtime option', options, REDIS_OPTION_KEYS);
  if (options.url !== undefined && options.cluster !== undefined) {
    throw new RealtimeOptionsError(
      'redisRealtime options "url" and "cluster" exclude each other: one Redis, or the nodes of a Redis Cluster',
    );
  }
  const {
    url = 'redis://127.0.0.1:6379',
    cluster,
    clusterOptions = {},
    redis = {},
    keyPrefix = 'realtime:',
    nodeTimeoutMs = 15_000,
    commandTimeoutMs = 5_000,
    startWhenUnavailable = false,
    sharedRateLimits = false,
  } = options;
  return {
    url: check(
      'url',
      url,
      (value) => typeof value === 'string' && /^rediss?:\/\/[^\s]*$/.test(value),
      'a redis:// URL',
    ),
    cluster: cluster === undefined ? undefined : clusterNodes(cluster),
    clusterOptions: check(
      'clusterOptions',
      clusterOptions,
      (value) => typeof value === 'object' && value !== null,
      'an ioredis ClusterOptions object',
    ),
    redis: check('redis', redis, (value) => typeof value === 'object' && value !== null, 'an ioredis options object'),
    keyPrefix: check(
      'keyPrefix',
      keyPrefix,
      (value) => typeof value === 'string' && /^[\w.:@=+/-]{0,64}$/.test(value),
      'up to 64 letters, digits or "_ . : @ = + / -" characters',
    ),
    nodeTimeoutMs: check(
      'nodeTimeoutMs',
      nodeTimeoutMs,
      (value) => isIntegerIn(value, 300, 600_000),
      'an integer from 300 to 600000',
    ),
    commandTimeoutMs: check(
      'commandTimeoutMs',
      commandTimeoutMs,
      (value) => isIntegerIn(value, 100, 600_000),
      'an integer from 100 to 600000',
    ),
    startWhenUnavailable: check('startWhenUnavailable', startWhenUnavailable, isBoolean, 'true or false'),
    sharedRateLimits: check('sharedRateLimits', sharedRateLimits, isBoolean, 'true or false'),
  };
}

function check<T>(name: string, value: T, valid: (value: T) => boolean, expected: string): T {
  return checkOption(name, value, valid, expected, 'redisRealtime option');
}

/** `'host:port'` strings as ioredis cluster nodes; a bad one throws naming it. */
function clusterNodes(nodes: unknown): { host: string; port: number }[] {
  const parsed = Array.isArray(nodes)
    ? nodes.map((node: unknown) => {
        const match = typeof node === 'string' ? /^([^\s:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(node) : null;
        const port = match === null ? NaN : Number(match[2]);
        return match === null || port < 1 || port > 65535 ? undefined : { host: match[1], port };
      })
    : [];
  if (!Array.isArray(nodes) || nodes.length === 0 || parsed.some((node) => node === undefined)) {
    throw new RealtimeOptionsError(
      `Invalid redisRealtime option "cluster": expected a non-empty array of "host:port" strings, got ${describeValue(nodes)}`,
    );
  }
  return parsed as { host: string; port: number }[];
}
