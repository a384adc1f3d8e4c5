import { ConnectionCounter } from '../connection/connection-counter.js';
import { parseInfo } from '../presence/presence-info.js';
import { type PresenceMember, PresenceStore } from '../presence/presence-store.js';
import type { BackendContext } from './backend-context.js';

/** The scope that counts every connection of the cluster (not a valid channel name, so never a channel's). */
export const CONNECTIONS_SCOPE = '#connections';

/** The user under which anonymous connections are counted. */
const ANONYMOUS = '';

/**
 * What a shared backend keeps for one instance: entries (a connection of a user in a scope: a channel, or
 * {@link CONNECTIONS_SCOPE}), with each user's first entry and last removal decided once for the cluster, and crash
 * cleanup of dead instances. One object serves both the presence store and the connection counter of a backend, so
 * it is started by the first of them and released by the last.
 */
export interface MemberEntries {
  acquire(context: BackendContext): Promise<void>;
  release(): Promise<void>;
  /** Records an entry; 1: the user's first in the scope, 0: not the first, -1: refused (`limit` reached). */
  add(scope: string, connectionId: string, userId: string, info: string, limit?: number): Promise<-1 | 0 | 1>;
  /** Forgets an entry; the member when it was the user's last connection in the scope. */
  remove(scope: string, connectionId: string): Promise<PresenceMember | undefined>;
  /** Replaces a member's info; false when the user is not a member. */
  setInfo(scope: string, userId: string, info: string): Promise<boolean>;
  /** The scope's members, with their info as stored (JSON). */
  members(scope: string): Promise<{ readonly userId: string; readonly info: string }[]>;
  /** How many members the scope has, without reading them. */
  count(scope: string): Promise<number>;
  /** Connections in the connections scope: all, or one user's. */
  countConnections(userId?: string): Promise<number>;
}

/** A `PresenceStore` over a backend's {@link MemberEntries}. */
export class EntriesPresenceStore extends PresenceStore {
  #started = false;

  /** @internal */
  constructor(private readonly entries: MemberEntries) {
    super();
  }

  override async start(context: BackendContext): Promise<void> {
    await this.entries.acquire(context);
    this.#started = true;
  }

  async add(channel: string, connectionId: string, member: PresenceMember): Promise<boolean> {
    return (await this.entries.add(channel, connectionId, member.userId, JSON.stringify(member.info))) === 1;
  }

  remove(channel: string, connectionId: string): Promise<PresenceMember | undefined> {
    return this.entries.remove(channel, connectionId);
  }

  setInfo(channel: string, member: PresenceMember): Promise<boolean> {
    return this.entries.setInfo(channel, member.userId, JSON.stringify(member.info));
  }

  async members(channel: string): Promise<PresenceMember[]> {
    return (await this.entries.members(channel)).map(({ userId, info }) => ({ userId, info: parseInfo(info) }));
  }

  override count(channel: string): Promise<number> {
    return this.entries.count(channel);
  }

  /** Takes this node's members out (announcing the leaves) when it is the last user of the entries. */
  async close(): Promise<void> {
    if (this.#started) {
      this.#started = false;
      await this.entries.release();
    }
  }
}

/** A `ConnectionCounter` over a backend's {@link MemberEntries}: the cap is checked and counted in one step. */
export class EntriesConnectionCounter extends ConnectionCounter {
  #started = false;

  /** @internal */
  constructor(private readonly entries: MemberEntries) {
    super();
  }

  override async start(context: BackendContext): Promise<void> {
    await this.entries.acquire(context);
    this.#started = true;
  }

  async add(connectionId: string, userId: string | null, limit?: number): Promise<boolean> {
    const capped = userId === null ? undefined : limit;
    return (await this.entries.add(CONNECTIONS_SCOPE, connectionId, userId ?? ANONYMOUS, '{}', capped)) !== -1;
  }

  async remove(connectionId: string): Promise<void> {
    await this.entries.remove(CONNECTIONS_SCOPE, connectionId);
  }

  count(userId?: string): Promise<number> {
    return this.entries.countConnections(userId);
  }

  override async close(): Promise<void> {
    if (this.#started) {
      this.#started = false;
      await this.entries.release();
    }
  }
}
