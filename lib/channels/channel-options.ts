import type { HistoryLimits } from '../history/history-store.js';
import { PROTOCOL_LIMITS } from '../protocol/limits.js';
import { describeValue } from '../util/describe-value.js';
import { RealtimeOptionsError, isIntegerIn, unknownKey } from '../util/option-checks.js';

/** How much of a channel's past is kept, and what a plain join replays. */
export interface ChannelHistoryOptions {
  /** Messages kept per channel (the oldest are dropped first). 1 to 10 000. */
  readonly size: number;
  /**
   * Messages older than this are dropped, and a channel with none left is forgotten (with its Redis keys). Default
   * one hour: history is for recovery and recent context, not an archive.
   */
  readonly ttlMs?: number;
  /** A plain `subscribe` (no `since`) is followed by the last this-many messages. Default 0, at most `size`. */
  readonly replayOnJoin?: number;
}

/** How long history is kept when a channel does not say. */
export const DEFAULT_HISTORY_TTL_MS = 60 * 60 * 1000;

/** What `history: true` means: the original designs' default, keep 100 and replay the last 100 to a joiner. */
export const DEFAULT_HISTORY: Readonly<Required<ChannelHistoryOptions>> = Object.freeze({
  size: 100,
  ttlMs: DEFAULT_HISTORY_TTL_MS,
  replayOnJoin: 100,
});

/** How a presence channel announces its members. */
export interface ChannelPresenceOptions {
  /**
   * Up to this many members, `subscribed` lists them and `system:presence_diff` frames name who joined and left;
   * above it, both carry the member count only (a client pages through the members with `presence` frames).
   * Default 100 (Pusher's cap on presence channels).
   */
  readonly maxAnnounced?: number;
  /** Joins and leaves within this window go out as one `system:presence_diff`. Default 50 ms. */
  readonly diffIntervalMs?: number;
  /** Above `maxAnnounced`, the member count goes out at most this often. Default 1000 ms. */
  readonly countIntervalMs?: number;
}

/** What `presence: true` means. */
export const DEFAULT_PRESENCE: Readonly<Required<ChannelPresenceOptions>> = Object.freeze({
  maxAnnounced: 100,
  diffIntervalMs: 50,
  countIntervalMs: 1000,
});

/** The second argument of `@Channel(pattern, options)`. Every feature is off unless enabled. */
export interface ChannelOptions {
  /**
   * Track members (users, not connections): `subscribed` lists them, `system:presence_diff` frames follow, joins
   * and leaves coalesced per channel. `true`, or {@link ChannelPresenceOptions}.
   */
  readonly presence?: boolean | ChannelPresenceOptions;
  /**
   * Keep the last messages published to each channel, with offsets for `history` and recovery: `true` (keep 100,
   * replay 100 to a joiner, for an hour), `N` (keep N, replay none), or `{ size, ttlMs?, replayOnJoin? }`.
   */
  readonly history?: true | number | ChannelHistoryOptions;
  /** Let subscribers send `whisper` frames to the channel's other connections (typing indicators, read receipts). */
  readonly whispers?: boolean;
  /**
   * Anyone who can connect may subscribe. Channels are closed unless opened: a class with neither a `canJoin`
   * method nor guards (its own or global ones) fails the boot unless it says `public: true`.
   */
  readonly public?: boolean;
}

/** A channel's history options after validation: also the limits its store works with. */
export interface ResolvedHistoryOptions extends HistoryLimits {
  readonly replayOnJoin: number;
}

export type ResolvedPresenceOptions = Readonly<Required<ChannelPresenceOptions>>;

export interface ResolvedChannelOptions {
  readonly public: boolean;
  /** False: not a presence channel. */
  readonly presence: ResolvedPresenceOptions | false;
  readonly history: ResolvedHistoryOptions | undefined;
  readonly whispers: boolean;
}

export const MAX_HISTORY_SIZE = PROTOCOL_LIMITS.historyMaxSize;

export const NO_CHANNEL_OPTIONS: ResolvedChannelOptions = Object.freeze({
  public: false,
  presence: false,
  history: undefined,
  whispers: false,
});

/** Every `@Channel` option (with {@link DEFAULT_PRESENCE}'s and the history object's keys): the docs table is checked against them. */
export const CHANNEL_OPTION_KEYS = ['presence', 'history', 'whispers', 'public'] as const;
export const HISTORY_OPTION_KEYS = ['size', 'ttlMs', 'replayOnJoin'] as const;
const KNOWN_PRESENCE = Object.keys(DEFAULT_PRESENCE);

/** Validates `@Channel` options; throws an error naming the pattern, the option and the bad value. */
export function resolveChannelOptions(pattern: string, options: ChannelOptions | undefined): ResolvedChannelOptions {
  if (options === undefined) {
    return NO_CHANNEL_OPTIONS;
  }
  const fail = (message: string): never => {
    throw new RealtimeOptionsError(`@Channel("${pattern}") options: ${message}`);
  };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail(`expected an object, got ${describeValue(options)}`);
  }
  rejectUnknown('option', options, CHANNEL_OPTION_KEYS, fail);
  const { whispers } = options;
  for (const key of ['whispers', 'public'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') {
      fail(`"${key}" must be a boolean, got ${describeValue(options[key])}`);
    }
  }
  return {
    public: options.public === true,
    presence: resolvePresence(options.presence, fail),
    history: resolveHistory(options.history, fail),
    whispers: whispers === true,
  };
}

function resolvePresence(
  presence: ChannelOptions['presence'],
  fail: (message: string) => never,
): ResolvedPresenceOptions | false {
  if (presence === undefined || presence === false) {
    return false;
  }
  if (presence === true) {
    return DEFAULT_PRESENCE;
  }
  if (typeof presence !== 'object' || presence === null || Array.isArray(presence)) {
    return fail(
      `"presence" must be a boolean or { maxAnnounced?, diffIntervalMs?, countIntervalMs? }, got ${describeValue(presence)}`,
    );
  }
  rejectUnknown('presence option', presence, KNOWN_PRESENCE, fail);
  const resolved = { ...DEFAULT_PRESENCE, ...presence };
  if (!isIntegerIn(resolved.maxAnnounced, 0, 10_000)) {
    fail(`"presence.maxAnnounced" must be an integer from 0 to 10000, got ${describeValue(resolved.maxAnnounced)}`);
  }
  for (const key of ['diffIntervalMs', 'countIntervalMs'] as const) {
    if (!isIntegerIn(resolved[key], 0, 60_000)) {
      fail(
        `"presence.${key}" must be an integer number of milliseconds from 0 to 60000, got ${describeValue(resolved[key])}`,
      );
    }
  }
  return Object.freeze(resolved);
}

function resolveHistory(
  history: ChannelOptions['history'],
  fail: (message: string) => never,
): ResolvedHistoryOptions | undefined {
  if (history === undefined) {
    return undefined;
  }
  const sizeRule = `an integer from 1 to ${MAX_HISTORY_SIZE}`;
  const shapes = `true, ${sizeRule} or { size, ttlMs?, replayOnJoin? }`;
  if (history === true) {
    return DEFAULT_HISTORY;
  }
  if (typeof history === 'number') {
    return isIntegerIn(history, 1, MAX_HISTORY_SIZE)
      ? { size: history, ttlMs: DEFAULT_HISTORY_TTL_MS, replayOnJoin: 0 }
      : fail(`"history" must be ${shapes}, got ${describeValue(history)}`);
  }
  if (typeof history !== 'object' || history === null || Array.isArray(history)) {
    return fail(`"history" must be ${shapes}, got ${describeValue(history)}`);
  }
  rejectUnknown('history option', history, HISTORY_OPTION_KEYS, fail);
  const { size, ttlMs = DEFAULT_HISTORY_TTL_MS, replayOnJoin = 0 } = history;
  if (!isIntegerIn(size, 1, MAX_HISTORY_SIZE)) {
    fail(`"history.size" must be ${sizeRule}, got ${describeValue(size)}`);
  }
  if (!isIntegerIn(ttlMs, 1, 2_147_483_647)) {
    fail(`"history.ttlMs" must be an integer number of milliseconds from 1 to 2147483647, got ${describeValue(ttlMs)}`);
  }
  if (!isIntegerIn(replayOnJoin, 0, size)) {
    fail(
      `"history.replayOnJoin" must be an integer from 0 to history.size (${size}), got ${describeValue(replayOnJoin)}`,
    );
  }
  return { size, ttlMs, replayOnJoin };
}

/** Fails on the first key of `value` that is not `known`, naming it and the known ones. */
function rejectUnknown(what: string, value: object, known: readonly string[], fail: (message: string) => never): void {
  const key = unknownKey(value, known);
  if (key !== undefined) {
    fail(`unknown ${what} "${key}". Known options: ${known.join(', ')}`);
  }
}
