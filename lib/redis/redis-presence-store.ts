import { EntriesPresenceStore } from '../backend/member-entries.js';

/**
 * Cluster-wide presence on Redis: one member per user across every instance, join and leave decided atomically
 * (Lua), so joins and leaves are announced once per user for the whole cluster. The members of an instance
 * that died are removed by one survivor, which announces their leaves (see `RedisNodeEntries`).
 *
 * Made by `redisRealtime()`.
 */
export class RedisPresenceStore extends EntriesPresenceStore {}
