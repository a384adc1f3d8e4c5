import type { BackendContext } from '../backend/backend-context.js';
import { type PresenceMember, PresenceStore } from '../presence/presence-store.js';
import { parseInfo } from '../presence/presence-info.js';
import type { RedisNodeEntries } from './redis-node-entries.js';

/**
 * Cluster-wide presence on Redis: one member per user across every instance, join and leave decided atomically
 * (Lua), so `system:user_joined`/`user_left` go out once per user for the whole cluster. The members of an instance
 * that died are removed by one survivor, which announces their leaves (see `RedisNodeEntries`).
 *
 * Made by `redisRealtime()`.
 */
export class RedisPresenceStore extends PresenceStore {
  #started = false;

  /** @internal */
  constructor(private readonly entries: RedisNodeEntries) {
    super();
  }

  override async start(context: BackendContext): Promise<void> {
    await this.entries.acquire(context);
    this.#started = true;
  }

  async add(channel: string, connectionId: string, member: PresenceMember): Promise<boolean> {
    return (await this.entries.add(channel, connectionId, member.userId, JSON.stringify(member.info))) === 1;
  }

  async remove(channel: string, connectionId: string): Promise<PresenceMember | undefined> {
    return this.entries.remove(channel, connectionId);
  }

  async setInfo(channel: string, member: PresenceMember): Promise<boolean> {
    const info = JSON.stringify(member.info);
    this.entries.holdInfo(channel, member.userId, info);
    const { connections, ttl } = this.entries;
    const updated = await connections.run('updating presence', (redis) =>
      redis.realtimePresenceSetInfo(this.entries.scopeKey(channel), ttl, member.userId, info),
    );
    return updated === 1;
  }

  async members(channel: string): Promise<PresenceMember[]> {
    const key = `${this.entries.scopeKey(channel)}:presence:info`;
    const info = await this.entries.connections.run('reading presence', (redis) => redis.hgetall(key));
    return Object.entries(info).map(([userId, text]) => ({ userId, info: parseInfo(text) }));
  }

  /** Takes this node's members out of Redis (announcing the leaves) when it is the last user of the entries. */
  async close(): Promise<void> {
    if (this.#started) {
      this.#started = false;
      await this.entries.release();
    }
  }
}
