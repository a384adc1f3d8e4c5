import type { HistoryLimits } from '../history/history-store.js';
import { PROTOCOL_LIMITS } from '../protocol/limits.js';
import { describeValue } from '../util/describe-value.js';
import { isIntegerIn } from '../util/option-checks.js';

/** How much of a channel's past is kept, and what a plain join replays. */
export interface ChannelHistoryOptions {
  /** Messages kept per channel (the oldest are dropped first). 1 to 10 000. */
  readonly size: number;
  /**
   * Messages older than this are dropped, and a channel with none left is forgotten (with its Redis keys). Default
   * one hour ({@link DEFAULT_HISTORY_TTL_MS}): history is for recovery and recent context, not an archive.
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

/** The second argument of `@Channel(pattern, options)`. Every feature is off unless enabled. */
export interface ChannelOptions {
  /** Track members (users, not connections): `subscribed` lists them, `system:user_joined`/`user_left` follow. */
  readonly presence?: boolean;
  /**
   * Keep the last messages published to each channel, with offsets for `history` and recovery: `true` (keep 100,
   * replay 100 to a joiner, for an hour), `N` (keep N, replay none), or `{ size, ttlMs?, replayOnJoin? }`.
   */
  readonly history?: true | number | ChannelHistoryOptions;
  /** Let subscribers send `whisper` frames to the channel's other connections (typing indicators, read receipts). */
  readonly whispers?: boolean;
}

/** A channel's history options after validation: also the limits its store works with. */
export interface ResolvedHistoryOptions extends HistoryLimits {
  readonly replayOnJoin: number;
}

export interface ResolvedChannelOptions {
  readonly presence: boolean;
  readonly history: ResolvedHistoryOptions | undefined;
  readonly whispers: boolean;
}

export const MAX_HISTORY_SIZE = PROTOCOL_LIMITS.historyMaxSize;

export const NO_CHANNEL_OPTIONS: ResolvedChannelOptions = Object.freeze({
  presence: false,
  history: undefined,
  whispers: false,
});

const KNOWN = new Set(['presence', 'history', 'whispers']);
const KNOWN_HISTORY = new Set(['size', 'ttlMs', 'replayOnJoin']);

/** Validates `@Channel` options; throws an error naming the pattern, the option and the bad value. */
export function resolveChannelOptions(pattern: string, options: ChannelOptions | undefined): ResolvedChannelOptions {
  if (options === undefined) {
    return NO_CHANNEL_OPTIONS;
  }
  const fail = (message: string): never => {
    throw new Error(`@Channel("${pattern}") options: ${message}`);
  };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail(`expected an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      fail(`unknown option "${key}". Known options: ${[...KNOWN].join(', ')}`);
    }
  }
  const flag = (name: 'presence' | 'whispers'): boolean => {
    const value = options[name];
    if (value !== undefined && typeof value !== 'boolean') {
      fail(`"${name}" must be a boolean, got ${describeValue(value)}`);
    }
    return value === true;
  };
  return { presence: flag('presence'), history: resolveHistory(options.history, fail), whispers: flag('whispers') };
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
  for (const key of Object.keys(history)) {
    if (!KNOWN_HISTORY.has(key)) {
      fail(`unknown history option "${key}". Known options: ${[...KNOWN_HISTORY].join(', ')}`);
    }
  }
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
