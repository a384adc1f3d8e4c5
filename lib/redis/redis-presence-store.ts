import { Logger } from '@nestjs/common';
import { type PresenceExpiryListener, type PresenceMember, PresenceStore } from '../presence/presence-store.js';
import type { RedisConnections } from './redis-connections.js';

/** The scope that counts every connection of the cluster (not a valid channel name, so never a channel's). */
const CONNECTIONS = '#connections';
/** The user under which anonymous connections are counted. */
const ANONYMOUS = '';

interface HeldEntry {
  readonly scope: string;
  readonly connectionId: string;
  readonly userId: string;
  readonly info: string;
}

/**
 * Cluster-wide presence on Redis: one member per user across every instance, join and leave decided atomically
 * (Lua), so `system:user_joined`/`user_left` go out once per user for the whole cluster. Every instance heartbeats
 * and reaps instances that stopped (a SIGKILL, a lost host): one survivor removes their members and announces the
 * leaves. An instance keeps a copy of what it holds, to put it back when Redis lost it (a restart without
 * persistence) or when it was reaped while alive (a long pause).
 *
 * Made by `redisRealtime()`.
 */
export class RedisPresenceStore extends PresenceStore {
  readonly #logger = new Logger('RealtimeRedis');
  readonly #held = new Map<string, HeldEntry>();
  #nodeId = '';
  #onExpired: PresenceExpiryListener = () => undefined;
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #resyncNeeded = false;
  #stopSubscriberWatch: (() => void) | undefined;
  /**
   * Every presence key expires this long after it was last written or refreshed (live nodes refresh theirs), so a
   * cluster that stops all at once leaves nothing behind for ever.
   */
  readonly #ttlMs: number;
  readonly #ttl: string;
  #refreshedAt = 0;

  /** @internal */
  constructor(private readonly connections: RedisConnections) {
    super();
    this.#ttlMs = Math.max(10 * connections.options.nodeTimeoutMs, 600_000);
    this.#ttl = String(this.#ttlMs);
  }

  async start(nodeId: string, onExpired: PresenceExpiryListener): Promise<void> {
    await this.connections.acquire();
    this.#started = true;
    this.#nodeId = nodeId;
    this.#onExpired = onExpired;
    const interval = Math.max(100, Math.floor(this.connections.options.nodeTimeoutMs / 3));
    this.#timer = setInterval(() => void this.#tick(), interval).unref();
    // Redis may have restarted empty: put back what this node holds as soon as it is reachable again.
    this.#stopSubscriberWatch = this.connections.onSubscriberReady(() => {
      this.#resyncNeeded = true;
      void this.#tick();
    });
    await this.#tick();
  }

  async add(channel: string, connectionId: string, member: PresenceMember): Promise<boolean> {
    return this.#add(channel, connectionId, member.userId, JSON.stringify(member.info));
  }

  async remove(channel: string, connectionId: string): Promise<PresenceMember | undefined> {
    return this.#remove(channel, connectionId);
  }

  async setInfo(channel: string, member: PresenceMember): Promise<boolean> {
    const info = JSON.stringify(member.info);
    // This node's copy follows, so a resync puts back the new info.
    for (const [key, entry] of this.#held) {
      if (entry.scope === channel && entry.userId === member.userId) {
        this.#held.set(key, { ...entry, info });
      }
    }
    const prefix = this.connections.keyPrefix;
    const updated = await this.connections.run('updating presence', (redis) =>
      redis.realtimePresenceSetInfo(prefix, this.#ttl, channel, member.userId, info),
    );
    return updated === 1;
  }

  async members(channel: string): Promise<PresenceMember[]> {
    const info = await this.connections.run('reading presence', (redis) => redis.hgetall(this.#key(channel, 'info')));
    return Object.entries(info).map(([userId, text]) => ({ userId, info: parseInfo(text) }));
  }

  addConnection(connectionId: string, userId: string | null): Promise<void> {
    return this.#add(CONNECTIONS, connectionId, userId ?? ANONYMOUS, '{}').then(() => undefined);
  }

  removeConnection(connectionId: string): Promise<void> {
    return this.#remove(CONNECTIONS, connectionId).then(() => undefined);
  }

  async countConnections(userId?: string): Promise<number> {
    return this.connections.run('counting connections', async (redis) =>
      userId === undefined
        ? redis.hlen(this.#key(CONNECTIONS, 'conns'))
        : Number((await redis.hget(this.#key(CONNECTIONS, 'users'), userId)) ?? 0),
    );
  }

  /** A scope's key, as the scripts name it (`scope_key` in redis-scripts.ts). */
  #key(scope: string, what: 'conns' | 'users' | 'info'): string {
    return `${this.connections.keyPrefix}presence:${scope}:${what}`;
  }

  /** Takes this node's members out of Redis (announcing the leaves) and stops heartbeating. */
  async close(): Promise<void> {
    if (!this.#started) {
      return;
    }
    this.#started = false;
    clearInterval(this.#timer);
    this.#stopSubscriberWatch?.();
    this.#held.clear();
    try {
      await this.#resync();
    } catch (error) {
      this.#logger.warn(`Could not take this node's presence out of Redis: ${(error as Error).message}`);
    }
    await this.connections.release();
  }

  async #add(scope: string, connectionId: string, userId: string, info: string): Promise<boolean> {
    this.#held.set(heldKey(scope, connectionId), { scope, connectionId, userId, info });
    const prefix = this.connections.keyPrefix;
    const first = await this.connections.run('recording presence', (redis) =>
      redis.realtimePresenceAdd(prefix, this.#ttl, this.#nodeId, scope, connectionId, userId, info),
    );
    return first === 1;
  }

  async #remove(scope: string, connectionId: string): Promise<PresenceMember | undefined> {
    // Forgotten locally first: if Redis is away now, the next resync removes it there.
    if (!this.#held.delete(heldKey(scope, connectionId))) {
      return undefined;
    }
    const prefix = this.connections.keyPrefix;
    const left = await this.connections.run('removing presence', (redis) =>
      redis.realtimePresenceRemove(prefix, this.#ttl, this.#nodeId, scope, connectionId),
    );
    return left === null ? undefined : { userId: left[0], info: parseInfo(left[1]) };
  }

  /**
   * One heartbeat: say this node is alive, put its entries back if needed, and reap dead nodes. Every quarter of
   * the keys' time to live, it also puts off the expiry of the presence keys this node's entries live in.
   */
  async #tick(): Promise<void> {
    const prefix = this.connections.keyPrefix;
    const timeout = this.connections.options.nodeTimeoutMs;
    const now = Date.now();
    const refresh = now - this.#refreshedAt >= this.#ttlMs / 4;
    if (refresh) {
      this.#refreshedAt = now;
    }
    try {
      const missing = await this.connections.run('heartbeat', (redis) =>
        redis.realtimePresenceHeartbeat(prefix, this.#ttl, this.#nodeId, timeout, refresh ? '1' : ''),
      );
      if (missing === 1 || this.#resyncNeeded) {
        this.#resyncNeeded = false;
        await this.#resync();
      }
      const left = await this.connections.run('reaping dead nodes', (redis) =>
        redis.realtimePresenceReap(prefix, this.#ttl, this.#nodeId, timeout),
      );
      this.#announce(left);
    } catch (error) {
      this.#resyncNeeded = true;
      this.#logger.debug(`Presence heartbeat failed: ${(error as Error).message}`);
    }
  }

  /** Makes Redis hold exactly this node's entries; announces users recorded there who are not any more. */
  async #resync(): Promise<void> {
    const entries: string[] = [];
    for (const entry of this.#held.values()) {
      entries.push(entry.scope, entry.connectionId, entry.userId, entry.info);
    }
    const prefix = this.connections.keyPrefix;
    const left = await this.connections.run('resyncing presence', (redis) =>
      redis.realtimePresenceResync(prefix, this.#ttl, this.#nodeId, ...entries),
    );
    this.#announce(left);
  }

  #announce(left: string[]): void {
    for (let i = 0; i + 2 < left.length; i += 3) {
      if (left[i] !== CONNECTIONS) {
        this.#onExpired(left[i], { userId: left[i + 1], info: parseInfo(left[i + 2]) });
      }
    }
  }
}

function heldKey(scope: string, connectionId: string): string {
  return `${scope}\0${connectionId}`;
}

function parseInfo(text: string): Readonly<Record<string, unknown>> {
  try {
    const info = JSON.parse(text) as unknown;
    return typeof info === 'object' && info !== null && !Array.isArray(info) ? (info as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
