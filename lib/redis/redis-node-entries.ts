import { Logger } from '@nestjs/common';
import type { BackendContext } from '../backend/backend-context.js';
import type { PresenceMember } from '../presence/presence-store.js';
import type { RedisConnections } from './redis-connections.js';

/** The scope that counts every connection of the cluster (not a valid channel name, so never a channel's). */
export const CONNECTIONS_SCOPE = '#connections';

interface HeldEntry {
  readonly scope: string;
  readonly connectionId: string;
  readonly userId: string;
  readonly info: string;
}

/**
 * What this instance holds in Redis, shared by the presence store and the connection counter of one
 * `redisRealtime()`: entries (a connection of a user in a scope: a channel, or {@link CONNECTIONS_SCOPE}), decided
 * atomically (Lua), so a user's first join and last leave are known once for the whole cluster. The instance
 * heartbeats and reaps instances that stopped (a SIGKILL, a lost host): one survivor removes their entries and
 * reports the members who left. It keeps a copy of what it holds, to put it back when Redis lost it (a restart
 * without persistence) or when it was reaped while alive (a long pause).
 *
 * Started by the first of its users, closed by the last.
 *
 * @internal
 */
export class RedisNodeEntries {
  readonly #logger = new Logger('RealtimeRedis');
  readonly #held = new Map<string, HeldEntry>();
  #users = 0;
  #nodeId = '';
  #context: BackendContext | undefined;
  #timer: NodeJS.Timeout | undefined;
  #resyncNeeded = false;
  #stopSubscriberWatch: (() => void) | undefined;
  /**
   * Every presence key expires this long after it was last written or refreshed (live nodes refresh theirs), so a
   * cluster that stops all at once leaves nothing behind for ever.
   */
  readonly #ttlMs: number;
  readonly #ttl: string;
  #refreshedAt = 0;

  constructor(readonly connections: RedisConnections) {
    this.#ttlMs = Math.max(10 * connections.options.nodeTimeoutMs, 600_000);
    this.#ttl = String(this.#ttlMs);
  }

  /** How long every presence key lives without a refresh, in ms, as the scripts take it. */
  get ttl(): string {
    return this.#ttl;
  }

  async acquire(context: BackendContext): Promise<void> {
    if (this.#users++ > 0) {
      return;
    }
    try {
      await this.connections.acquire();
    } catch (error) {
      this.#users--;
      throw error;
    }
    this.#nodeId = context.nodeId;
    this.#context = context;
    const interval = Math.max(100, Math.floor(this.connections.options.nodeTimeoutMs / 3));
    this.#timer = setInterval(() => void this.#tick(), interval).unref();
    // Redis may have restarted empty: put back what this node holds as soon as it is reachable again.
    this.#stopSubscriberWatch = this.connections.onSubscriberReady(() => {
      this.#resyncNeeded = true;
      void this.#tick();
    });
    await this.#tick();
  }

  /** Takes this node's entries out of Redis (reporting the leaves) and stops heartbeating, with its last user. */
  async release(): Promise<void> {
    if (this.#users === 0 || --this.#users > 0) {
      return;
    }
    clearInterval(this.#timer);
    this.#stopSubscriberWatch?.();
    this.#held.clear();
    try {
      await this.#resync();
    } catch (error) {
      this.#logger.warn(`Could not take this node's presence out of Redis: ${(error as Error).message}`);
    }
    this.#context = undefined;
    await this.connections.release();
  }

  /** Records an entry; resolves to 1 (the user's first in the scope), 0, or -1 (refused: `limit` reached). */
  async add(scope: string, connectionId: string, userId: string, info: string, limit?: number): Promise<-1 | 0 | 1> {
    const key = heldKey(scope, connectionId);
    this.#held.set(key, { scope, connectionId, userId, info });
    const prefix = this.connections.keyPrefix;
    let added: -1 | 0 | 1;
    try {
      added = await this.connections.run('recording presence', (redis) =>
        redis.realtimePresenceAdd(prefix, this.#ttl, this.#nodeId, scope, connectionId, userId, info, limit ?? ''),
      );
    } catch (error) {
      // Kept locally when Redis is away: the next resync records it.
      if (limit !== undefined) {
        this.#held.delete(key);
      }
      throw error;
    }
    if (added === -1) {
      this.#held.delete(key);
    }
    return added;
  }

  /** Forgets an entry; resolves to the member when it was the user's last connection in the scope. */
  async remove(scope: string, connectionId: string): Promise<PresenceMember | undefined> {
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

  /** This node's copy follows an info change, so a resync puts back the new info. */
  holdInfo(scope: string, userId: string, info: string): void {
    for (const [key, entry] of this.#held) {
      if (entry.scope === scope && entry.userId === userId) {
        this.#held.set(key, { ...entry, info });
      }
    }
  }

  /** A scope's key, as the scripts name it (`scope_key` in redis-scripts.ts). */
  key(scope: string, what: 'conns' | 'users' | 'info'): string {
    return `${this.connections.keyPrefix}presence:${scope}:${what}`;
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

  /** Makes Redis hold exactly this node's entries; reports users recorded there who are not any more. */
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
      if (left[i] !== CONNECTIONS_SCOPE) {
        this.#context?.presenceExpired(left[i], { userId: left[i + 1], info: parseInfo(left[i + 2]) });
      }
    }
  }
}

function heldKey(scope: string, connectionId: string): string {
  return `${scope}\0${connectionId}`;
}

export function parseInfo(text: string): Readonly<Record<string, unknown>> {
  try {
    const info = JSON.parse(text) as unknown;
    return typeof info === 'object' && info !== null && !Array.isArray(info) ? (info as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
