import { type PresenceMember, PresenceStore } from './presence-store.js';

interface MemberEntry {
  member: PresenceMember;
  readonly connections: Set<string>;
}

/** The embedded presence store: one process's members, in memory. Nothing expires: every node is this one. */
export class MemoryPresenceStore extends PresenceStore {
  readonly #channels = new Map<string, Map<string, MemberEntry>>();

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

  override count(channel: string): Promise<number> {
    return Promise.resolve(this.#channels.get(channel)?.size ?? 0);
  }

  override page(channel: string, offset: number, limit: number): Promise<PresenceMember[]> {
    const page: PresenceMember[] = [];
    let position = 0;
    for (const entry of this.#channels.get(channel)?.values() ?? []) {
      if (page.length >= limit) {
        break;
      }
      if (position++ >= offset) {
        page.push(entry.member);
      }
    }
    return Promise.resolve(page);
  }

  /** Channels with at least one member (for tests and stats). */
  get channelCount(): number {
    return this.#channels.size;
  }

  close(): Promise<void> {
    this.#channels.clear();
    return Promise.resolve();
  }
}
