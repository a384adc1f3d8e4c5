import type { BackendContext } from '../backend/backend-context.js';

/** A member of a presence channel: one user, however many of its connections are in the channel. */
export interface PresenceMember {
  readonly userId: string;
  /** Public info about the user (a display name, an avatar), from the identity or `canJoin`. */
  readonly info: Readonly<Record<string, unknown>>;
}

/**
 * Called by a store that removed members by itself (for example those of a node that died without leaving), so
 * the module can announce their leave. A store calls it on one node only for each member it removes.
 */
export type PresenceExpiryListener = (channel: string, member: PresenceMember) => void;

/**
 * Who is in each presence channel. Members are users: a store counts a user's connections per channel and reports
 * the first join and the last leave, which the module announces in `system:presence_diff` frames.
 * The embedded default is {@link MemoryPresenceStore}; provide another with the `presenceStore` option.
 *
 * A store receives info already validated (a plain JSON object within `maxPresenceInfoBytes`).
 */
export abstract class PresenceStore {
  /**
   * Starts the store for this node (the same lifecycle as every backend: see `BackendContext`). A store that removes
   * members by itself reports them to `context.presenceExpired`. The default does nothing.
   */
  start(_context: BackendContext): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Records that a connection of `member.userId` is in `channel`. Resolves to true when it is the user's first
   * connection there (the user just became a member). A user's info is the one its first connection brought.
   */
  abstract add(channel: string, connectionId: string, member: PresenceMember): Promise<boolean>;

  /**
   * Forgets a connection of a user in `channel`. Resolves to the member when it was the user's last connection
   * there (the user just left), undefined otherwise, also when the connection was not recorded.
   */
  abstract remove(channel: string, connectionId: string, userId: string): Promise<PresenceMember | undefined>;

  /**
   * Replaces the info of a member (`member.userId`) of `channel`, for every connection of the user there. Resolves
   * to false, changing nothing, when the user is not a member.
   */
  abstract setInfo(channel: string, member: PresenceMember): Promise<boolean>;

  /** The channel's members, one per user. */
  abstract members(channel: string): Promise<PresenceMember[]>;

  /**
   * How many members the channel has. The default counts `members()`; a store that can count without reading them
   * all should override it: the module asks on every join of a presence channel.
   */
  async count(channel: string): Promise<number> {
    return (await this.members(channel)).length;
  }

  /**
   * At most `limit` members from position `offset` of the channel's member list (positions hold while no member
   * joins or leaves). The default slices `members()`; a store that can read a page alone should override it.
   */
  async page(channel: string, offset: number, limit: number): Promise<PresenceMember[]> {
    return (await this.members(channel)).slice(offset, offset + limit);
  }

  /** Stops the store and releases its resources. */
  abstract close(): Promise<void>;
}
