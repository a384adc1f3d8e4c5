import { Broker } from './broker/broker.js';
import { ConnectionCounter } from './connection/connection-counter.js';
import { HistoryStore } from './history/history-store.js';
import { PresenceStore } from './presence/presence-store.js';
import {
  PROTECTION_DEFAULTS,
  PROTECTION_OPTION_KEYS,
  type ProtectionOptions,
  type ResolvedProtectionOptions,
  resolveProtectionOptions,
} from './protection/protection.options.js';
import { describeValue } from './util/describe-value.js';
import type { ValidationPipeOptions } from '@nestjs/common';
import {
  RealtimeOptionsError,
  check,
  implementsAll,
  isBoolean,
  isIntegerIn,
  milliseconds,
  rejectUnknownKeys,
} from './util/option-checks.js';

export { RealtimeOptionsError };
import type { AuthenticateFunction, RealtimeAuthenticatorType } from './interfaces/authenticator.interface.js';

/** Options of `RealtimeModule.forRoot()` / `forRootAsync()`. Every limit has a safe default. */
export interface RealtimeModuleOptions extends ProtectionOptions {
  /** URL path of the WebSocket endpoint. Default `'/realtime'`. */
  path?: string;
  /**
   * Listen on this port instead of sharing the app's HTTP server (`0`: any free port). Needed in an app made with
   * `NestFactory.createApplicationContext`, which has no HTTP server.
   */
  port?: number;
  /** With `port`: the address to listen on. Default: every interface. */
  host?: string;
  /**
   * Authenticates each handshake: an injectable class implementing `RealtimeAuthenticator` (resolved from the app's
   * providers, so register it in one of your modules) or a function. Without it every connection is anonymous.
   */
  authenticate?: RealtimeAuthenticatorType | AuthenticateFunction;
  /** How often the server pings each connection. Default 25 000 ms. */
  heartbeatIntervalMs?: number;
  /** A connection silent for longer than this (no pong, no frame) is closed with 4001. Default 50 000 ms. */
  heartbeatTimeoutMs?: number;
  /**
   * How long before a connection's credential expires (its identity's `expiresAt`) it is told
   * `system:token_expiring`, so the client sends a `refresh` frame in time. Default 60 000 ms.
   */
  tokenExpiryWarningMs?: number;
  /** On shutdown, how long connections get to close after the 1001 close frame before they are cut. Default 5 000 ms. */
  drainTimeoutMs?: number;
  /** Largest frame accepted; larger ones close the connection with 1009 before they are buffered. Default 64 KiB. */
  maxPayloadBytes?: number;
  /** Longest channel name accepted. Default 128. */
  maxChannelNameLength?: number;
  /** Delivers messages between nodes. Default: an in-process `LocalBroker`. */
  broker?: Broker;
  /** Keeps presence channels' members. Default: an in-process `MemoryPresenceStore`. */
  presenceStore?: PresenceStore;
  /** Keeps history channels' recent messages and offsets. Default: an in-process `MemoryHistoryStore`. */
  historyStore?: HistoryStore;
  /**
   * Counts connections, in total and per user, and enforces `maxConnectionsPerUser` where it counts. Default: an
   * in-process `MemoryConnectionCounter` (the cap holds per instance); `redisRealtime()` gives one for the cluster.
   */
  connectionCounter?: ConnectionCounter;
  /** Largest member info (from the identity or `canJoin`) as JSON, in bytes. Default 1024. */
  maxPresenceInfoBytes?: number;
  /** Most keys a connection's metadata may hold (from the authenticator, then `setMetadata`). Default 32. */
  maxMetadataEntries?: number;
  /** Largest connection metadata as JSON, in bytes. Default 4096. */
  maxMetadataBytes?: number;
  /**
   * Also speak `realtime.v1.msgpack` (the same envelopes as MessagePack, in binary frames) with clients that offer it.
   * Needs the `msgpackr` package. Default false.
   */
  msgpack?: boolean;
  /**
   * Refuse an unauthenticated handshake by accepting it and closing it at once with 4401 "Unauthorized", instead of
   * answering HTTP 401. Browsers cannot read the status of a refused handshake, only close codes: with this, a
   * browser client (the SDK included) can tell a bad token from a network failure and stop retrying. Default false.
   */
  closeUnauthorized?: boolean;
  /**
   * Relay `chat:private` frames with a `recipient` without app code: to every device of the recipient on every node
   * and the sender's other devices; a recipient with no connection gets the sender `RECIPIENT_OFFLINE`. The sender
   * must be authenticated. An `@OnMessage('chat:private')` handler then fails the boot. Default false.
   */
  directMessages?: boolean;
  /**
   * Validate every handler's `@Payload()` against its class-validator DTO with a {@link RealtimeValidationPipe}:
   * `true`, or the `ValidationPipe` options to use (`{ whitelist: true }`, `{ transform: true }`, ...). DTOs are
   * compiled at boot into synchronous checks (a log line names each DTO that stays on class-validator's own path,
   * and why); failures are `VALIDATION_FAILED` frames listing the fields, as with `ValidationPipe`. Replaces a
   * global `ValidationPipe` for realtime handlers: keep that one off them (`@UsePipes` on your controllers), or it
   * validates each payload a second time. Default false.
   */
  validation?: boolean | ValidationPipeOptions;
  /**
   * Serve the AsyncAPI 3.0 document of the realtime API (every channel, message, payload schema, answer and error
   * code) as JSON on the app's HTTP server: `true` (at `/asyncapi.json`) or `{ path?, title?, version?,
   * description? }`. Off by default: it describes your API to whoever asks. `RealtimeAsyncApi.document()` gives it
   * either way.
   */
  asyncapi?: boolean | AsyncApiOptions;
}

/** Where and how the AsyncAPI document is served. */
export interface AsyncApiOptions {
  /** Default `/asyncapi.json`. */
  path?: string;
  /** The document's `info.title`. Default `'Realtime API'`. */
  title?: string;
  /** The document's `info.version` (your API's version). Default `'1.0.0'`. */
  version?: string;
  description?: string;
}

/** What `forRootAsync({ useClass })` classes implement. */
export interface RealtimeOptionsFactory {
  /** The module's options, for `forRootAsync({ useClass })`. */
  createRealtimeOptions(): RealtimeModuleOptions | Promise<RealtimeModuleOptions>;
}

/** Options after defaults and validation. */
export interface ResolvedRealtimeOptions extends ResolvedProtectionOptions {
  readonly path: string;
  readonly port: number | undefined;
  readonly host: string | undefined;
  readonly authenticate: RealtimeAuthenticatorType | AuthenticateFunction | undefined;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly tokenExpiryWarningMs: number;
  readonly drainTimeoutMs: number;
  readonly maxPayloadBytes: number;
  readonly maxChannelNameLength: number;
  readonly broker: Broker | undefined;
  readonly presenceStore: PresenceStore | undefined;
  readonly historyStore: HistoryStore | undefined;
  readonly connectionCounter: ConnectionCounter | undefined;
  readonly maxPresenceInfoBytes: number;
  readonly maxMetadataEntries: number;
  readonly maxMetadataBytes: number;
  readonly msgpack: boolean;
  readonly closeUnauthorized: boolean;
  readonly directMessages: boolean;
  readonly validation: ValidationPipeOptions | undefined;
  readonly asyncapi: (Required<Omit<AsyncApiOptions, 'description'>> & { description?: string }) | undefined;
}

/** The module options' defaults (see docs/options.md). */
export const REALTIME_DEFAULTS = {
  path: '/realtime',
  heartbeatIntervalMs: 25_000,
  heartbeatTimeoutMs: 50_000,
  tokenExpiryWarningMs: 60_000,
  drainTimeoutMs: 5_000,
  maxPayloadBytes: 64 * 1024,
  maxChannelNameLength: 128,
  maxPresenceInfoBytes: 1024,
  maxMetadataEntries: 32,
  maxMetadataBytes: 4096,
  ...PROTECTION_DEFAULTS,
} as const;

/** Every option of `RealtimeModule.forRoot`: unknown keys are refused, and the docs tables are checked against it. */
export const REALTIME_OPTION_KEYS: readonly (keyof RealtimeModuleOptions)[] = [
  'path',
  'port',
  'host',
  'authenticate',
  'heartbeatIntervalMs',
  'heartbeatTimeoutMs',
  'tokenExpiryWarningMs',
  'drainTimeoutMs',
  'maxPayloadBytes',
  'maxChannelNameLength',
  'broker',
  'presenceStore',
  'historyStore',
  'connectionCounter',
  'maxPresenceInfoBytes',
  'maxMetadataEntries',
  'maxMetadataBytes',
  'msgpack',
  'closeUnauthorized',
  'directMessages',
  'validation',
  'asyncapi',
  ...PROTECTION_OPTION_KEYS,
];

/** Applies defaults and validates; throws {@link RealtimeOptionsError} naming the first bad option. */
export function resolveRealtimeOptions(options: RealtimeModuleOptions | undefined | null): ResolvedRealtimeOptions {
  if (options == null || typeof options !== 'object') {
    throw new RealtimeOptionsError(`RealtimeModule options must be an object, got ${describeValue(options)}`);
  }
  rejectUnknownKeys('RealtimeModule option', options, REALTIME_OPTION_KEYS);
  const resolved: ResolvedRealtimeOptions = {
    ...resolveProtectionOptions(options),
    path: check('path', options.path ?? REALTIME_DEFAULTS.path, isPath, 'a URL path starting with "/"'),
    port: options.port === undefined ? undefined : check('port', options.port, isPort, 'an integer from 0 to 65535'),
    host: options.host === undefined ? undefined : check('host', options.host, isNonEmptyString, 'a non-empty string'),
    authenticate:
      options.authenticate === undefined
        ? undefined
        : check(
            'authenticate',
            options.authenticate,
            (value) => typeof value === 'function',
            'an injectable class implementing RealtimeAuthenticator, or a function',
          ),
    heartbeatIntervalMs: milliseconds(
      'heartbeatIntervalMs',
      options.heartbeatIntervalMs ?? REALTIME_DEFAULTS.heartbeatIntervalMs,
    ),
    heartbeatTimeoutMs: milliseconds(
      'heartbeatTimeoutMs',
      options.heartbeatTimeoutMs ?? REALTIME_DEFAULTS.heartbeatTimeoutMs,
    ),
    tokenExpiryWarningMs: milliseconds(
      'tokenExpiryWarningMs',
      options.tokenExpiryWarningMs ?? REALTIME_DEFAULTS.tokenExpiryWarningMs,
      0,
    ),
    drainTimeoutMs: milliseconds('drainTimeoutMs', options.drainTimeoutMs ?? REALTIME_DEFAULTS.drainTimeoutMs, 0),
    maxPayloadBytes: check(
      'maxPayloadBytes',
      options.maxPayloadBytes ?? REALTIME_DEFAULTS.maxPayloadBytes,
      (value) => isIntegerIn(value, 64, 256 * 1024 * 1024),
      'an integer number of bytes from 64 to 268435456',
    ),
    maxChannelNameLength: check(
      'maxChannelNameLength',
      options.maxChannelNameLength ?? REALTIME_DEFAULTS.maxChannelNameLength,
      (value) => isIntegerIn(value, 1, 1024),
      'an integer from 1 to 1024',
    ),
    broker:
      options.broker === undefined
        ? undefined
        : check('broker', options.broker, (value) => implementsAll(value, Broker, BROKER_METHODS), 'a Broker instance'),
    presenceStore:
      options.presenceStore === undefined
        ? undefined
        : check(
            'presenceStore',
            options.presenceStore,
            (value) => implementsAll(value, PresenceStore, PRESENCE_STORE_METHODS),
            'a PresenceStore instance',
          ),
    historyStore:
      options.historyStore === undefined
        ? undefined
        : check(
            'historyStore',
            options.historyStore,
            (value) => implementsAll(value, HistoryStore, HISTORY_STORE_METHODS),
            'a HistoryStore instance',
          ),
    connectionCounter:
      options.connectionCounter === undefined
        ? undefined
        : check(
            'connectionCounter',
            options.connectionCounter,
            (value) => implementsAll(value, ConnectionCounter, CONNECTION_COUNTER_METHODS),
            'a ConnectionCounter instance',
          ),
    maxPresenceInfoBytes: check(
      'maxPresenceInfoBytes',
      options.maxPresenceInfoBytes ?? REALTIME_DEFAULTS.maxPresenceInfoBytes,
      (value) => isIntegerIn(value, 2, 65_536),
      'an integer number of bytes from 2 to 65536',
    ),
    maxMetadataEntries: check(
      'maxMetadataEntries',
      options.maxMetadataEntries ?? REALTIME_DEFAULTS.maxMetadataEntries,
      (value) => isIntegerIn(value, 1, 1024),
      'an integer from 1 to 1024',
    ),
    maxMetadataBytes: check(
      'maxMetadataBytes',
      options.maxMetadataBytes ?? REALTIME_DEFAULTS.maxMetadataBytes,
      (value) => isIntegerIn(value, 2, 1024 * 1024),
      'an integer number of bytes from 2 to 1048576',
    ),
    msgpack: check('msgpack', options.msgpack ?? false, isBoolean, 'a boolean'),
    closeUnauthorized: check('closeUnauthorized', options.closeUnauthorized ?? false, isBoolean, 'a boolean'),
    directMessages: check('directMessages', options.directMessages ?? false, isBoolean, 'a boolean'),
    validation: resolveValidation(options.validation),
    asyncapi: resolveAsyncApi(options.asyncapi),
  };
  if (resolved.heartbeatTimeoutMs <= resolved.heartbeatIntervalMs) {
    throw new RealtimeOptionsError(
      `Invalid RealtimeModule option "heartbeatTimeoutMs": must be greater than heartbeatIntervalMs ` +
        `(${resolved.heartbeatIntervalMs}), got ${resolved.heartbeatTimeoutMs}`,
    );
  }
  return resolved;
}

function resolveValidation(validation: unknown): ValidationPipeOptions | undefined {
  const checked = check(
    'validation',
    validation ?? false,
    (value) => typeof value === 'boolean' || (typeof value === 'object' && value !== null && !Array.isArray(value)),
    'a boolean or ValidationPipe options',
  );
  return checked === false ? undefined : checked === true ? {} : checked;
}

const ASYNCAPI_KEYS = ['path', 'title', 'version', 'description'] as const;

function resolveAsyncApi(asyncapi: unknown): ResolvedRealtimeOptions['asyncapi'] {
  if (asyncapi === undefined || asyncapi === false) {
    return undefined;
  }
  const given = check(
    'asyncapi',
    asyncapi === true ? {} : asyncapi,
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    'a boolean or { path?, title?, version?, description? }',
  ) as AsyncApiOptions;
  rejectUnknownKeys('RealtimeModule option "asyncapi" key', given, ASYNCAPI_KEYS);
  const text = (name: 'title' | 'version' | 'description', value: unknown): string =>
    check(`asyncapi.${name}`, value, isNonEmptyString, 'a non-empty string') as string;
  return {
    path: check('asyncapi.path', given.path ?? '/asyncapi.json', isPath, 'a URL path starting with "/"'),
    title: text('title', given.title ?? 'Realtime API'),
    version: text('version', given.version ?? '1.0.0'),
    ...(given.description === undefined ? {} : { description: text('description', given.description) }),
  };
}

function isPort(value: unknown): boolean {
  return isIntegerIn(value, 0, 65535);
}

function isNonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}

function isPath(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith('/') && !/[?#\s]/.test(value);
}

const BROKER_METHODS = ['start', 'publish', 'subscribe', 'unsubscribe', 'close'] as const;
const PRESENCE_STORE_METHODS = ['start', 'add', 'remove', 'setInfo', 'members', 'close'] as const;
const CONNECTION_COUNTER_METHODS = ['start', 'add', 'remove', 'count', 'close'] as const;
const HISTORY_STORE_METHODS = ['start', 'append', 'read', 'close'] as const;
