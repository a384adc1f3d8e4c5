import type { IncomingMessage } from 'node:http';
import {
  RealtimeOptionsError,
  cap,
  check,
  implementsAll,
  isBoolean,
  isInteger,
  isIntegerIn,
  milliseconds,
  rejectUnknownKeys,
} from '../util/option-checks.js';
import { type RateLimitRule, RateLimitStore } from './rate-limit-store.js';

/** Decides whether a browser page from `origin` may connect. */
export type OriginCheck = (origin: string, request: IncomingMessage) => boolean;

/** The module-wide rate limit on inbound frames. */
export interface RealtimeRateLimitOptions extends RateLimitRule {
  /**
   * A connection refused this many times within one `windowMs` is closed with 1008: sustained abuse, not a burst.
   * `0`: never close. Default: `limit`.
   */
  readonly closeAfter?: number;
}

/** What happens to a connection that does not read what it is sent (the `backpressure` option). */
export interface BackpressureOptions {
  /** Bytes queued for one connection past which the policy applies. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
  /**
   * Messages queued for one connection past which the policy applies (counted as the messages written since its
   * queue was last empty). Bounds the per-write overhead of floods of small messages. Default 4096; `0`: no cap.
   */
  readonly maxBufferedMessages?: number;
  /** `close` (default): close the connection with 4000 and `closeReason`; `drop`: drop messages to it (counted). */
  readonly policy?: 'close' | 'drop';
  /** Volatile messages (whispers, `{ volatile: true }` sends) are dropped past this many queued bytes. Default 64 KiB. */
  readonly volatileBufferedBytes?: number;
  /** The reason of the 4000 close (at most 123 bytes). Default `'Slow consumer'`. */
  readonly closeReason?: string;
  /** How long a closed slow consumer gets to read up to its close frame before it is cut. Default 1000 ms. */
  readonly closeGraceMs?: number;
}

/** permessage-deflate (RFC 7692) settings; `perMessageDeflate: true` takes these defaults. */
export interface PerMessageDeflateOptions {
  /** Messages smaller than this many bytes are sent uncompressed. Default 1024. */
  readonly threshold?: number;
  /** zlib compression level, 1 (fastest) to 9 (smallest). Default 1: JSON compresses well already at 1. */
  readonly level?: number;
  /** zlib memory level, 1 to 9: memory per compressing connection against ratio. Default 8 (zlib's). */
  readonly memLevel?: number;
  /** Largest LZ77 window the server compresses with, 2^bits bytes, 9 to 15. Default 15. */
  readonly serverMaxWindowBits?: number;
  /**
   * Largest window asked of clients that offer `client_max_window_bits` (browsers and `ws` do): what the server
   * keeps to inflate their messages. 9 to 15. Default 15.
   */
  readonly clientMaxWindowBits?: number;
  /**
   * Keep each connection's compression context between messages (better ratio on similar messages) at the cost of
   * its zlib state staying allocated. Default false: the context is reset after every message.
   */
  readonly contextTakeover?: boolean;
}

/** The protection options of `RealtimeModule.forRoot()`. Every limit is on by default; `0` turns a cap off. */
export interface ProtectionOptions {
  /**
   * permessage-deflate, with clients that offer it: `true` (the defaults of {@link PerMessageDeflateOptions}) or
   * settings. Default off: it costs CPU per message and memory per connection (see docs/security.md);
   * when on, `maxPayloadBytes` applies inflated. Sends with `{ compress: false }` skip it.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Connections in total on this node; past it, handshakes get HTTP 503. Default 10 000. */
  maxConnections?: number;
  /** Connections from one IP address (see `trustProxy`); past it, HTTP 429. Default 100. */
  maxConnectionsPerIp?: number;
  /**
   * How many reverse proxies in front of the app to trust: the client's address is then read from
   * `X-Forwarded-For`, right to left, past that many hops, and the origin check also accepts the host the outermost
   * trusted proxy received (`X-Forwarded-Host` or `Forwarded: host=`, read the same way). Default 0: the socket's
   * peer address and the `Host` header only.
   */
  trustProxy?: number;
  /** Connections of one user on this node; past it, HTTP 429. Default 20. */
  maxConnectionsPerUser?: number;
  /** Channels one connection may be in; past it, `subscribe` gets `FORBIDDEN`. Default 100. */
  maxChannelsPerConnection?: number;
  /** Time the handshake (authentication included) may take; past it, HTTP 408. Default 10 000 ms. */
  handshakeTimeoutMs?: number;
  /**
   * Origins browsers may connect from: a list (`'https://app.example.com'`, exact) or a function. Default: the
   * `Origin` must match the request's `Host` (same host and port). A mismatch gets HTTP 403.
   */
  allowedOrigins?: readonly string[] | OriginCheck;
  /** Whether handshakes without `Origin` (non-browser clients) are accepted. Default true. */
  allowMissingOrigin?: boolean;
  /** Every inbound frame counts, control frames and whispers included, per user (per connection if anonymous). */
  rateLimit?: RealtimeRateLimitOptions | false;
  /** Where rate-limit buckets live. Default: an in-process `MemoryRateLimitStore`. */
  rateLimitStore?: RateLimitStore;
  /** What happens to a connection that does not read what it is sent. */
  backpressure?: BackpressureOptions;
}

export interface ResolvedRateLimit extends RateLimitRule {
  readonly closeAfter: number;
}

export interface ResolvedProtectionOptions {
  /** Off (false), or every setting resolved. */
  readonly perMessageDeflate: Required<PerMessageDeflateOptions> | false;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly trustProxy: number;
  readonly maxConnectionsPerUser: number;
  readonly maxChannelsPerConnection: number;
  readonly handshakeTimeoutMs: number;
  readonly allowedOrigins: readonly string[] | OriginCheck | undefined;
  readonly allowMissingOrigin: boolean;
  readonly rateLimit: ResolvedRateLimit | undefined;
  readonly rateLimitStore: RateLimitStore | undefined;
  readonly backpressure: Required<BackpressureOptions>;
}

export const PROTECTION_DEFAULTS = {
  perMessageDeflate: false,
  maxConnections: 10_000,
  maxConnectionsPerIp: 100,
  trustProxy: 0,
  maxConnectionsPerUser: 20,
  maxChannelsPerConnection: 100,
  handshakeTimeoutMs: 10_000,
  allowMissingOrigin: true,
  rateLimit: { limit: 100, windowMs: 1000 },
  backpressure: {
    maxBufferedBytes: 1024 * 1024,
    maxBufferedMessages: 4096,
    policy: 'close',
    volatileBufferedBytes: 64 * 1024,
    closeReason: 'Slow consumer',
    closeGraceMs: 1000,
  },
} as const;

/** What `perMessageDeflate: true` means. */
export const PER_MESSAGE_DEFLATE_DEFAULTS: Required<PerMessageDeflateOptions> = {
  threshold: 1024,
  level: 1,
  memLevel: 8,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
  contextTakeover: false,
};

export const PROTECTION_OPTION_KEYS: readonly (keyof ProtectionOptions)[] = [
  'perMessageDeflate',
  'maxConnections',
  'maxConnectionsPerIp',
  'trustProxy',
  'maxConnectionsPerUser',
  'maxChannelsPerConnection',
  'handshakeTimeoutMs',
  'allowedOrigins',
  'allowMissingOrigin',
  'rateLimit',
  'rateLimitStore',
  'backpressure',
];

export function resolveProtectionOptions(options: ProtectionOptions): ResolvedProtectionOptions {
  const defaults = PROTECTION_DEFAULTS;
  return {
    perMessageDeflate: resolveDeflate(options.perMessageDeflate),
    maxConnections: cap('maxConnections', options.maxConnections ?? defaults.maxConnections),
    maxConnectionsPerIp: cap('maxConnectionsPerIp', options.maxConnectionsPerIp ?? defaults.maxConnectionsPerIp),
    trustProxy: check(
      'trustProxy',
      options.trustProxy ?? defaults.trustProxy,
      (value) => isIntegerIn(value, 0, 16),
      'a number of proxies from 0 to 16',
    ),
    maxConnectionsPerUser: cap(
      'maxConnectionsPerUser',
      options.maxConnectionsPerUser ?? defaults.maxConnectionsPerUser,
    ),
    maxChannelsPerConnection: cap(
      'maxChannelsPerConnection',
      options.maxChannelsPerConnection ?? defaults.maxChannelsPerConnection,
    ),
    handshakeTimeoutMs: milliseconds('handshakeTimeoutMs', options.handshakeTimeoutMs ?? defaults.handshakeTimeoutMs),
    allowedOrigins:
      options.allowedOrigins === undefined
        ? undefined
        : check(
            'allowedOrigins',
            options.allowedOrigins,
            (value) =>
              typeof value === 'function' ||
              (Array.isArray(value) && value.every((origin) => typeof origin === 'string' && isOrigin(origin))),
            'a list of origins ("https://host[:port]") or a function (origin, request) => boolean',
          ),
    allowMissingOrigin: check(
      'allowMissingOrigin',
      options.allowMissingOrigin ?? defaults.allowMissingOrigin,
      isBoolean,
      'a boolean',
    ),
    rateLimit: resolveRateLimit(options.rateLimit),
    rateLimitStore:
      options.rateLimitStore === undefined
        ? undefined
        : check(
            'rateLimitStore',
            options.rateLimitStore,
            (value) => implementsAll(value, RateLimitStore, ['consume', 'close']),
            'a RateLimitStore instance',
          ),
    backpressure: resolveBackpressure(options.backpressure),
  };
}

/** Validates a rate-limit rule (module option or `@RateLimit`); `name` is how errors refer to it. */
export function checkRateLimitRule(name: string, rule: unknown): RateLimitRule {
  check(name, rule, (value) => typeof value === 'object' && value !== null, 'an object { limit, windowMs }');
  const { limit, windowMs } = rule as Partial<RateLimitRule>;
  check(`${name}.limit`, limit, (value) => isInteger(value) && value >= 1, 'an integer from 1');
  milliseconds(`${name}.windowMs`, windowMs as number);
  return { limit: limit!, windowMs: windowMs! };
}

function resolveRateLimit(option: ProtectionOptions['rateLimit']): ResolvedRateLimit | undefined {
  if (option === false) {
    return undefined;
  }
  const given = option ?? PROTECTION_DEFAULTS.rateLimit;
  if (typeof given === 'object' && given !== null) {
    rejectUnknownKeys('rateLimit option', given, ['limit', 'windowMs', 'closeAfter']);
  }
  const rule = checkRateLimitRule('rateLimit', given);
  const closeAfter = cap('rateLimit.closeAfter', (given as RealtimeRateLimitOptions).closeAfter ?? rule.limit);
  return { ...rule, closeAfter };
}

function resolveBackpressure(option: BackpressureOptions | undefined): Required<BackpressureOptions> {
  const defaults = PROTECTION_DEFAULTS.backpressure;
  if (option === undefined) {
    return defaults;
  }
  check('backpressure', option, (value) => typeof value === 'object' && value !== null, 'an object');
  rejectUnknownKeys('backpressure option', option, Object.keys(defaults));
  const bytes = (value: unknown) => isInteger(value) && value >= 1024;
  const resolved: Required<BackpressureOptions> = {
    maxBufferedBytes: check(
      'backpressure.maxBufferedBytes',
      option.maxBufferedBytes ?? defaults.maxBufferedBytes,
      bytes,
      'an integer number of bytes from 1024',
    ),
    maxBufferedMessages: cap(
      'backpressure.maxBufferedMessages',
      option.maxBufferedMessages ?? defaults.maxBufferedMessages,
    ),
    policy: check('backpressure.policy', option.policy ?? defaults.policy, isPolicy, '"close" or "drop"'),
    volatileBufferedBytes: check(
      'backpressure.volatileBufferedBytes',
      option.volatileBufferedBytes ?? defaults.volatileBufferedBytes,
      bytes,
      'an integer number of bytes from 1024',
    ),
    closeReason: check(
      'backpressure.closeReason',
      option.closeReason ?? defaults.closeReason,
      (value) => typeof value === 'string' && Buffer.byteLength(value) <= 123,
      'a string of at most 123 bytes (a WebSocket close reason)',
    ),
    closeGraceMs: milliseconds('backpressure.closeGraceMs', option.closeGraceMs ?? defaults.closeGraceMs),
  };
  if (resolved.volatileBufferedBytes > resolved.maxBufferedBytes) {
    throw new RealtimeOptionsError(
      `Invalid RealtimeModule option "backpressure.volatileBufferedBytes": must not exceed maxBufferedBytes ` +
        `(${resolved.maxBufferedBytes}), got ${resolved.volatileBufferedBytes}`,
    );
  }
  return resolved;
}

function resolveDeflate(option: ProtectionOptions['perMessageDeflate']): Required<PerMessageDeflateOptions> | false {
  if (option === undefined || option === false) {
    return false;
  }
  const defaults = PER_MESSAGE_DEFLATE_DEFAULTS;
  if (option === true) {
    return defaults;
  }
  check(
    'perMessageDeflate',
    option,
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    'a boolean or { threshold?, level?, memLevel?, serverMaxWindowBits?, clientMaxWindowBits?, contextTakeover? }',
  );
  rejectUnknownKeys('perMessageDeflate option', option, Object.keys(defaults));
  return {
    threshold: check(
      'perMessageDeflate.threshold',
      option.threshold ?? defaults.threshold,
      (value) => isIntegerIn(value, 0, 256 * 1024 * 1024),
      'an integer number of bytes from 0',
    ),
    level: check(
      'perMessageDeflate.level',
      option.level ?? defaults.level,
      (value) => isIntegerIn(value, 1, 9),
      'an integer from 1 to 9',
    ),
    memLevel: check(
      'perMessageDeflate.memLevel',
      option.memLevel ?? defaults.memLevel,
      (value) => isIntegerIn(value, 1, 9),
      'an integer from 1 to 9',
    ),
    serverMaxWindowBits: check(
      'perMessageDeflate.serverMaxWindowBits',
      option.serverMaxWindowBits ?? defaults.serverMaxWindowBits,
      (value) => isIntegerIn(value, 9, 15),
      'an integer from 9 to 15',
    ),
    clientMaxWindowBits: check(
      'perMessageDeflate.clientMaxWindowBits',
      option.clientMaxWindowBits ?? defaults.clientMaxWindowBits,
      (value) => isIntegerIn(value, 9, 15),
      'an integer from 9 to 15',
    ),
    contextTakeover: check(
      'perMessageDeflate.contextTakeover',
      option.contextTakeover ?? defaults.contextTakeover,
      isBoolean,
      'a boolean',
    ),
  };
}

function isPolicy(value: unknown): value is 'close' | 'drop' {
  return value === 'close' || value === 'drop';
}

/**
 * Whether `value` is an origin: a scheme and a host, with a port or not, nothing else (no path, query or user).
 * Compared as browsers send them: `https://App.example:443` is `https://app.example`.
 */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    const rest = value.slice(url.protocol.length + 2);
    return url.origin !== 'null' && value.startsWith(`${url.protocol}//`) && !/[/?#@]/.test(rest);
  } catch {
    return false;
  }
}
