/** Shape limits of wire protocol v1 that are not configurable: they bound work per frame. */
export const PROTOCOL_LIMITS = {
  /** `type` and whisper `event` names: letters, digits and `_ . : / -`. */
  nameMaxLength: 64,
  idMaxLength: 64,
  recipientMaxLength: 256,
  metadataMaxEntries: 32,
  metadataKeyMaxLength: 64,
  metadataValueMaxLength: 1024,
  /** A history `epoch` string. */
  epochMaxLength: 64,
  /** Most messages a channel keeps, and the largest `limit` of a `history` frame. */
  historyMaxSize: 10_000,
} as const;

const NAME_PATTERN = /^[A-Za-z0-9_.:/-]+$/;
const CHANNEL_PATTERN = /^[A-Za-z0-9_.:@=+/-]+$/;

/** A message `type` or whisper `event` name. */
export function isValidName(value: string): boolean {
  return value.length > 0 && value.length <= PROTOCOL_LIMITS.nameMaxLength && NAME_PATTERN.test(value);
}

/**
 * A channel name: 1 to `maxLength` characters among letters, digits and `_ . : @ = + / -`.
 * `:` separates the segments that channel patterns match.
 */
export function isValidChannelName(value: string, maxLength: number): boolean {
  return value.length > 0 && value.length <= maxLength && CHANNEL_PATTERN.test(value);
}
