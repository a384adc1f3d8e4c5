import type { NodeConnectionOptions } from '@nats-io/transport-node';
import { describeValue } from '../util/describe-value.js';
import {
  RealtimeOptionsError,
  check as checkOption,
  rejectUnknownKeys,
  isBoolean,
  isIntegerIn,
} from '../util/option-checks.js';

/** Options of `natsRealtime()`. */
export interface NatsRealtimeOptions {
  /** `nats://host:port` (or several). Default `nats://127.0.0.1:4222`. */
  readonly servers?: string | readonly string[];
  /** More `@nats-io/transport-node` connection options (credentials, TLS, ...), applied over `servers`. */
  readonly connection?: NodeConnectionOptions;
  /**
   * First token of every subject and the prefix of the JetStream buckets and stream (letters, digits, `_`, `-`), so
   * several apps can share one NATS. Default `'realtime'`.
   */
  readonly prefix?: string;
  /**
   * An instance that has not heartbeated for this long is dead: its presence members and connections are removed and
   * their leave is announced once for each. Default 15 000 ms (from 300 to 600 000).
   */
  readonly nodeTimeoutMs?: number;
  /** A request to NATS (a JetStream or KV operation) without an answer after this long fails. Default 5 000 ms. */
  readonly requestTimeoutMs?: number;
  /**
   * Also share rate-limit buckets through NATS (`rateLimitStore`), so per-user limits hold for the whole cluster. A
   * check is one round trip (compare-and-set) while a user's frames come through one instance. Default false.
   */
  readonly sharedRateLimits?: boolean;
  /** How long the history stream keeps a message at most, whatever a channel's `ttlMs`. Default 86 400 000 (a day). */
  readonly historyMaxAgeMs?: number;
}

export interface ResolvedNatsOptions {
  readonly servers: string[];
  readonly connection: NodeConnectionOptions;
  readonly prefix: string;
  readonly nodeTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly historyMaxAgeMs: number;
  readonly sharedRateLimits: boolean;
}

/** Every option of `natsRealtime()`: unknown keys are refused, and the docs table is checked against it. */
export const NATS_OPTION_KEYS = [
  'servers',
  'connection',
  'prefix',
  'nodeTimeoutMs',
  'requestTimeoutMs',
  'historyMaxAgeMs',
  'sharedRateLimits',
];

/** Validates `natsRealtime()`'s options; a bad one throws naming it and the value. */
export function resolveNatsOptions(options: NatsRealtimeOptions = {}): ResolvedNatsOptions {
  if (typeof options !== 'object' || options === null) {
    throw new RealtimeOptionsError(`natsRealtime() expects an options object, got ${describeValue(options)}`);
  }
  rejectUnknownKeys('natsRealtime option', options, NATS_OPTION_KEYS);
  const {
    servers = 'nats://127.0.0.1:4222',
    connection = {},
    prefix = 'realtime',
    nodeTimeoutMs = 15_000,
    requestTimeoutMs = 5_000,
    historyMaxAgeMs = 86_400_000,
    sharedRateLimits = false,
  } = options;
  const list = typeof servers === 'string' ? [servers] : servers;
  return {
    servers: check(
      'servers',
      list,
      (value) =>
        Array.isArray(value) &&
        value.length > 0 &&
        value.every((server) => typeof server === 'string' && /^(nats|tls|wss?):\/\/\S+$|^[^\s/]+:\d+$/.test(server)),
      'a nats:// URL or a non-empty array of them',
    ) as string[],
    connection: check(
      'connection',
      connection,
      (value) => typeof value === 'object' && value !== null,
      'a NATS connection options object',
    ),
    prefix: check(
      'prefix',
      prefix,
      (value) => typeof value === 'string' && /^[A-Za-z0-9_-]{1,32}$/.test(value),
      'up to 32 letters, digits, "_" or "-"',
    ),
    nodeTimeoutMs: check(
      'nodeTimeoutMs',
      nodeTimeoutMs,
      (value) => isIntegerIn(value, 300, 600_000),
      'an integer from 300 to 600000',
    ),
    requestTimeoutMs: check(
      'requestTimeoutMs',
      requestTimeoutMs,
      (value) => isIntegerIn(value, 100, 600_000),
      'an integer from 100 to 600000',
    ),
    historyMaxAgeMs: check(
      'historyMaxAgeMs',
      historyMaxAgeMs,
      (value) => isIntegerIn(value, 1_000, 31_536_000_000),
      'an integer from 1000 to 31536000000',
    ),
    sharedRateLimits: check('sharedRateLimits', sharedRateLimits, isBoolean, 'true or false'),
  };
}

function check<T>(name: string, value: T, valid: (value: T) => boolean, expected: string): T {
  return checkOption(name, value, valid, expected, 'natsRealtime option');
}
