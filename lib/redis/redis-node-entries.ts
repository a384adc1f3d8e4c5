import { parseInfo } from '../presence/presence-info.js';
import type { PresenceMember } from '../presence/presence-store.js';
import type { RedisConnections } from './redis-connections.js';
import { CONNECTIONS_SCOPE } from '../backend/member-entries.js';
import { NodeEntriesBase } from '../backend/node-entries-base.js';
import { nodesKey, scopeKey } from './redis-keys.js';

/**
 * What this instance holds in Redis, shared by the presence store and the connection counter of one
 * `redisRealtime()`: entries (a connection of a user in a scope: a channel, or the connections scope), decided
 * atomically on the scope's slot (Lua), so a user's first join and last leave are known once for the whole cluster.
 *
 * Crash cleanup: the instance heartbeats in the node registry (its own slot) and records there the scopes where it
 * holds entries. A survivor claims an instance silent past `nodeTimeoutMs` in one atomic step (so exactly one does),
 * then removes its entries scope by scope and reports the members who left. The instance keeps a copy of what it
 * holds, to put it back when Redis lost it (a restart without persistence) or when it was claimed while alive (a
 * long pause). If the claiming survivor dies before it finished, the rest expires with the keys' time to live.
 *
 * Started by the first of its users, closed by the last.
 *
 * @internal
 */
export class RedisNodeEntries extends NodeEntriesBase {
  /** Scopes recorded for this node in the registry. */
  readonly #registered = new Set<string>();
  /**
   * Every presence key expires this long after it was last written or refreshed (live nodes refresh theirs), so a
   * cluster that stops all at once leaves nothing behind for ever.
   */
  readonly #ttlMs: number;
  readonly #ttl: string;
  #refreshedAt = 0;

  constructor(readonly connections: RedisConnections) {
    super('RealtimeRedis', connections.options.nodeTimeoutMs);
    this.#ttlMs = Math.max(10 * connections.options.nodeTimeoutMs, 600_000);
    this.#ttl = String(this.#ttlMs);
  }

  /** The base key of a scope's presence keys. */
  scopeKey(scope: string): string {
    return scopeKey(this.connections.keyPrefix, scope);
  }

  protected connect(): Promise<void> {
    return this.connections.acquire();
  }

  protected disconnect(): Promise<void> {
    return this.connections.release();
  }

  protected onReconnect(listener: () => void): () => void {
    return this.connections.onSubscriberReady(listener);
  }

  /** A resync with nothing held: every entry of this node is removed, and the node leaves the registry. */
  protected leave(): Promise<void> {
    return this.#resync();
  }

  /** Records an entry; resolves to 1 (the user's first in the scope), 0, or -1 (refused: `limit` reached). */
  async add(scope: string, connectionId: string, userId: string, info: string, limit?: number): Promise<-1 | 0 | 1> {
    this.hold(scope, connectionId, { userId, info });
    let added: -1 | 0 | 1;
    try {
      if (!this.#registered.has(scope)) {
        // Recorded before the entry, so a crash right after leaves nothing a survivor cannot find.
        await this.connections.run('recording presence', (redis) =>
          redis.realtimeNodesRegister(this.#nodes(), this.#ttl, this.nodeId, scope),
        );
        this.#registered.add(scope);
      }
      added = await this.connections.run('recording presence', (redis) =>
        redis.realtimePresenceAdd(
          this.scopeKey(scope),
          this.#ttl,
          this.nodeId,
          connectionId,
          userId,
          info,
          limit ?? '',
        ),
      );
    } catch (error) {
      // Kept locally when Redis is away (the next resync records it), unless it was a capped check.
      if (limit !== undefined) {
        this.forget(scope, connectionId);
      }
      throw error;
    }
    if (added === -1) {
      this.forget(scope, connectionId);
    }
    return added;
  }

  /** Forgets an entry; resolves to the member when it was the user's last connection in the scope. */
  async remove(scope: string, connectionId: string): Promise<PresenceMember | undefined> {
    // Forgotten locally first: if Redis is away now, the next resync removes it there.
    if (this.forget(scope, connectionId) === undefined) {
      return undefined;
    }
    const left = await this.connections.run('removing presence', (redis) =>
      redis.realtimePresenceRemove(this.scopeKey(scope), this.#ttl, this.nodeId, connectionId),
    );
    return left === null ? undefined : { userId: left[0], info: parseInfo(left[1]) };
  }

  async setInfo(scope: string, userId: string, info: string): Promise<boolean> {
    this.holdInfo(scope, userId, info);
    const updated = await this.connections.run('updating presence', (redis) =>
      redis.realtimePresenceSetInfo(this.scopeKey(scope), this.#ttl, userId, info),
    );
    return updated === 1;
  }

  async members(scope: string): Promise<{ userId: string; info: string }[]> {
    const key = `${this.scopeKey(scope)}:presence:info`;
    const info = await this.connections.run('reading presence', (redis) => redis.hgetall(key));
    return Object.entries(info).map(([userId, text]) => ({ userId, info: text }));
  }

  count(scope: string): Promise<number> {
    const key = `${this.scopeKey(scope)}:presence:info`;
    return this.connections.run('counting presence', (redis) => redis.hlen(key));
  }

  async countConnections(userId?: string): Promise<number> {
    const base = `${this.scopeKey(CONNECTIONS_SCOPE)}:presence`;
    return this.connections.run('counting connections', async (redis) =>
      userId === undefined ? redis.hlen(`${base}:conns`) : Number((await redis.hget(`${base}:users`, userId)) ?? 0),
    );
  }

  #nodes(): string {
    return nodesKey(this.connections.keyPrefix);
  }

  /**
   * One heartbeat: say this node is alive, put its entries back if needed, and clean up dead nodes. Every quarter of
   * the keys' time to live, it also puts off the expiry of the scopes this node holds entries in.
   */
  protected async tick(): Promise<void> {
    const timeout = this.connections.options.nodeTimeoutMs;
    const now = Date.now();
    const refresh = now - this.#refreshedAt >= this.#ttlMs / 4;
    if (refresh) {
      this.#refreshedAt = now;
    }
    const missing = await this.connections.run('heartbeat', (redis) =>
      redis.realtimeNodesHeartbeat(this.#nodes(), this.#ttl, this.nodeId, timeout),
    );
    if (missing === 1 || this.resyncNeeded) {
      this.resyncNeeded = false;
      await this.#resync();
    } else if (refresh) {
      await Promise.all(
        [...this.held.keys()].map((scope) =>
          this.connections.run('refreshing presence', (redis) =>
            redis.realtimePresenceTouch(this.scopeKey(scope), this.#ttl, this.nodeId),
          ),
        ),
      );
    }
    await this.#reapDeadNodes(timeout);
  }

  /** Claims the nodes silent past the timeout, removes their entries scope by scope, and reports who left. */
  async #reapDeadNodes(timeout: number): Promise<void> {
    const claimed = await this.connections.run('reaping dead nodes', (redis) =>
      redis.realtimeNodesClaimDead(this.#nodes(), this.#ttl, this.nodeId, timeout),
    );
    for (let i = 0; i + 1 < claimed.length;) {
      const node = String(claimed[i]);
      const count = Number(claimed[i + 1]);
      const scopes = claimed.slice(i + 2, i + 2 + count).map(String);
      i += 2 + count;
      await Promise.all(scopes.map((scope) => this.#resyncScope(scope, node, [])));
    }
  }

  /** Makes Redis hold exactly this node's entries, in every scope it holds or held; reports users who left. */
  async #resync(): Promise<void> {
    const held = [...this.held.keys()];
    const before = await this.connections.run('resyncing presence', (redis) =>
      redis.realtimeNodesSetScopes(this.#nodes(), this.#ttl, this.nodeId, ...held),
    );
    this.#registered.clear();
    for (const scope of held) {
      this.#registered.add(scope);
    }
    const scopes = new Set([...before, ...held]);
    await Promise.all(
      [...scopes].map((scope) => {
        const entries: string[] = [];
        for (const [connectionId, entry] of this.held.get(scope) ?? []) {
          entries.push(connectionId, entry.userId, entry.info);
        }
        return this.#resyncScope(scope, this.nodeId, entries);
      }),
    );
  }

  async #resyncScope(scope: string, node: string, entries: string[]): Promise<void> {
    const left = await this.connections.run('resyncing presence', (redis) =>
      redis.realtimePresenceResyncScope(this.scopeKey(scope), this.#ttl, node, ...entries),
    );
    const members: PresenceMember[] = [];
    for (let i = 0; i + 1 < left.length; i += 2) {
      members.push({ userId: left[i], info: parseInfo(left[i + 1]) });
    }
    this.announce(scope, members);
  }
}
