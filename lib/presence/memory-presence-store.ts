import { type PresenceMember, PresenceStore } from './presence-store.js';

interface MemberEntry {
  member: PresenceMember;
  readonly connections: Set<string>;
}

/** The embedded presence store: one process's members, in memory. Nothing expires: every node is this one. */
export class MemoryPresenceStore extends PresenceStore {
  readonly #channels = new Map<string, Map<string, MemberEntry>>();
  /** Connections per user (anonymous ones under null), for the totals. */
  readonly #connections = new Map<string | null, number>();
  #connectionCount = 0;

  start(): Promise<void> {
    return Promise.resolve();
  }

  add(channel: string, connectionId: string, member: PresenceMember): Promise<boolean> {
    let users = this.#channels.get(channel);
    if (users === undefined) {
      users = new Map();
      this.#channels.set(channel, users);
    }
    const entry = users.get(member.userId);
    if (entry !== undefined) {
      entry.connections.add(connectionId);
      return Promise.resolve(false);
    }
    users.set(member.userId, { member, connections: new Set([connectionId]) });
    return Promise.resolve(true);
  }

  remove(channel: string, connectionId: string, userId: string): Promise<PresenceMember | undefined> {
    const users = this.#channels.get(channel);
    const entry = users?.get(userId);
    if (users === undefined || entry === undefined || !entry.connections.delete(connectionId)) {
      return Promise.resolve(undefined);
    }
    if (entry.connections.size > 0) {
      return Promise.resolve(undefined);
    }
    users.delete(userId);
    if (users.size === 0) {
      this.#channels.delete(channel);
    }
    return Promise.resolve(entry.member);
  }

  setInfo(channel: string, member: PresenceMember): Promise<boolean> {
    const entry = this.#channels.get(channel)?.get(member.userId);
    if (entry !== undefined) {
      entry.member = member;
    }
    return Promise.resolve(entry !== undefined);
  }

  members(channel: string): Promise<PresenceMember[]> {
    const users = this.#channels.get(channel);
    return Promise.resolve(users === undefined ? [] : [...users.values()].map((entry) => entry.member));
  }

  addConnection(_connectionId: string, userId: string | null): Promise<void> {
    this.#connections.set(userId, (this.#connections.get(userId) ?? 0) + 1);
    this.#connectionCount++;
    return Promise.resolve();
  }

  removeConnection(_connectionId: string, userId: string | null): Promise<void> {
    const count = this.#connections.get(userId);
    if (count !== undefined) {
      if (count > 1) {
        this.#connections.set(userId, count - 1);
      } else {
        this.#connections.delete(userId);
      }
      this.#connectionCount--;
    }
    return Promise.resolve();
  }

  countConnections(userId?: string): Promise<number> {
    return Promise.resolve(userId === undefined ? this.#connectionCount : (this.#connections.get(userId) ?? 0));
  }

  /** Channels with at least one member (for tests and stats). */
  get channelCount(): number {
    return this.#channels.size;
  }

  close(): Promise<void> {
    this.#channels.clear();
    this.#connections.clear();
    this.#connectionCount = 0;
    return Promise.resolve();
  }
}
