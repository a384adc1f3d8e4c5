import type { KV, KvEntry } from '@nats-io/kv';
import { CONNECTIONS_SCOPE } from '../backend/member-entries.js';
import { NodeEntriesBase } from '../backend/node-entries-base.js';
import { parseInfo } from '../presence/presence-info.js';
import type { PresenceMember } from '../presence/presence-store.js';
import type { NatsConnections } from './nats-connections.js';
import { token, untoken } from './nats-names.js';
import { within } from '../util/within.js';

/** A member entry in the KV: the user's connections in the scope (each with its node) and its info. */
interface MemberValue {
  readonly conns: Readonly<Record<string, string>>;
  readonly info: string;
}

const MAX_ATTEMPTS = 100;

/**
 * What this instance holds in NATS, shared by the presence store and the connection counter of one `natsRealtime()`:
 * one KV entry per member (`m.<scope>.<user>`: its connections and info), changed only by compare-and-set on the
 * entry's revision, so a user's first join and last leave are decided once for the whole cluster.
 *
 * Crash cleanup: the instance heartbeats in a KV bucket whose entries expire after `nodeTimeoutMs`, and records the
 * scopes where it holds entries (`s.<node>`). A survivor that finds a node's record without its heartbeat claims the
 * node by compare-and-set on the record (one succeeds; another takes over if the claimer dies too), removes the node's
 * connections scope by scope, reports the members who left, and deletes the record. The instance keeps a copy of what
 * it holds, and puts it back when it finds its record gone (it was claimed while alive, or JetStream lost it).
 *
 * @internal
 */
export class NatsNodeEntries extends NodeEntriesBase {
  /** Scopes in this node's record. */
  readonly #recorded = new Set<string>();

  constructor(readonly connections: NatsConnections) {
    super('RealtimeNats', connections.options.nodeTimeoutMs);
  }

  protected async connect(): Promise<void> {
    await this.connections.acquire();
  }

  protected disconnect(): Promise<void> {
    return this.connections.release();
  }

  protected onReconnect(listener: () => void): () => void {
    return this.connections.onReconnect(listener);
  }

  protected async leave(entries: readonly (readonly [string, string, string])[]): Promise<void> {
    await this.connections.run('leaving', async ({ presence, nodes }) => {
      // Each entry's own key, by its user: no listing of the scope's keys, which a concurrent change can stall.
      for (const [scope, connectionId, userId] of entries) {
        this.announce(scope, await this.#removeConnections(presence, scope, (id) => id === connectionId, userId));
      }
      await presence.delete(this.#recordKey(this.nodeId));
      await nodes.delete(`n.${token(this.nodeId)}`);
    });
    this.#recorded.clear();
  }

  /** Records an entry; resolves to 1 (the user's first in the scope), 0, or -1 (refused: `limit` reached). */
  async add(scope: string, connectionId: string, userId: string, info: string, limit?: number): Promise<-1 | 0 | 1> {
    this.hold(scope, connectionId, { userId, info });
    try {
      const added = await this.connections.run('recording presence', async ({ presence }) => {
        if (!this.#recorded.has(scope)) {
          await this.#record(presence, [...this.#recorded, scope]);
        }
        return this.#addConnection(presence, scope, connectionId, userId, info, limit);
      });
      if (added === -1) {
        this.forget(scope, connectionId);
      }
      return added;
    } catch (error) {
      if (limit !== undefined) {
        this.forget(scope, connectionId);
      }
      throw error;
    }
  }

  /** Forgets an entry; resolves to the member when it was the user's last connection in the scope. */
  async remove(scope: string, connectionId: string): Promise<PresenceMember | undefined> {
    const entry = this.forget(scope, connectionId);
    if (entry === undefined) {
      return undefined;
    }
    return this.connections.run('removing presence', async ({ presence }) => {
      const left = await this.#removeConnections(presence, scope, (id) => id === connectionId, entry.userId);
      return left[0];
    });
  }

  /** Replaces a member's info; resolves to false when the user is not a member. */
  async setInfo(scope: string, userId: string, info: string): Promise<boolean> {
    this.holdInfo(scope, userId, info);
    return this.connections.run('updating presence', async ({ presence }) => {
      const key = this.#memberKey(scope, userId);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const entry = await presence.get(key);
        const value = memberOf(entry);
        if (entry === null || value === undefined) {
          return false;
        }
        try {
          await presence.update(key, JSON.stringify({ ...value, info }), entry.revision);
          return true;
        } catch {
          // changed meanwhile: read again
        }
      }
      throw new Error(`Updating presence in "${scope}" lost ${MAX_ATTEMPTS} races in a row`);
    });
  }

  /** The members of a scope, with their info. */
  async members(scope: string): Promise<{ userId: string; info: string }[]> {
    return (await this.#members(scope)).map(({ userId, info }) => ({ userId, info }));
  }

  /** How many members a scope has: its keys listed, none read. */
  count(scope: string): Promise<number> {
    return this.connections.run('counting presence', async ({ presence }) => {
      return (await this.#keys(presence, `m.${token(scope)}.*`)).length;
    });
  }

  /** The members of a scope, each with its info and connection count. */
  async #members(scope: string): Promise<{ userId: string; info: string; connections: number }[]> {
    return this.connections.run('reading presence', async ({ presence }) => {
      const prefix = `m.${token(scope)}.`;
      const keys = await this.#keys(presence, `${prefix}*`);
      const entries = await Promise.all(keys.map((key) => presence.get(key)));
      const members: { userId: string; info: string; connections: number }[] = [];
      entries.forEach((entry, index) => {
        const value = memberOf(entry);
        if (value !== undefined) {
          members.push({
            userId: untoken(keys[index].slice(prefix.length)),
            info: value.info,
            connections: Object.keys(value.conns).length,
          });
        }
      });
      return members;
    });
  }

  /** Connections in the connections scope: one user's (one read), or all (every user's entry). */
  async countConnections(userId?: string): Promise<number> {
    if (userId === undefined) {
      const members = await this.#members(CONNECTIONS_SCOPE);
      return members.reduce((total, member) => total + member.connections, 0);
    }
    return this.connections.run('counting connections', async ({ presence }) => {
      const value = memberOf(await presence.get(this.#memberKey(CONNECTIONS_SCOPE, userId)));
      return value === undefined ? 0 : Object.keys(value.conns).length;
    });
  }

  #memberKey(scope: string, userId: string): string {
    return `m.${token(scope)}.${token(userId)}`;
  }

  #recordKey(node: string): string {
    return `s.${token(node)}`;
  }

  /** Writes this node's record of scopes (only this node writes it while alive). */
  async #record(presence: KV, scopes: string[]): Promise<void> {
    const key = this.#recordKey(this.nodeId);
    const record: NodeRecord = { scopes: [...new Set(scopes)] };
    await presence.put(key, JSON.stringify(record));
    this.#recorded.clear();
    for (const scope of scopes) {
      this.#recorded.add(scope);
    }
  }

  async #addConnection(
    presence: KV,
    scope: string,
    connectionId: string,
    userId: string,
    info: string,
    limit: number | undefined,
  ): Promise<-1 | 0 | 1> {
    const key = this.#memberKey(scope, userId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry = await presence.get(key);
      const value = memberOf(entry);
      try {
        if (entry === null || value === undefined) {
          if (limit !== undefined && limit < 1) {
            return -1;
          }
          await presence.create(key, JSON.stringify({ conns: { [connectionId]: this.nodeId }, info }));
          return 1;
        }
        if (connectionId in value.conns) {
          return 0;
        }
        if (limit !== undefined && Object.keys(value.conns).length >= limit) {
          return -1;
        }
        const conns = { ...value.conns, [connectionId]: this.nodeId };
        await presence.update(key, JSON.stringify({ ...value, conns }), entry.revision);
        return 0;
      } catch {
        // another instance changed it first: read again
      }
    }
    throw new Error(`Recording presence in "${scope}" lost ${MAX_ATTEMPTS} races in a row`);
  }

  /**
   * Removes the connections `matches` picks from the members of a scope (one user's entry when `userId` is given,
   * else every member); returns the members whose last connection that was.
   */
  async #removeConnections(
    presence: KV,
    scope: string,
    matches: (connectionId: string, node: string) => boolean,
    userId?: string,
  ): Promise<PresenceMember[]> {
    const keys: string[] = [];
    if (userId !== undefined) {
      keys.push(this.#memberKey(scope, userId));
    } else {
      keys.push(...(await this.#keys(presence, `m.${token(scope)}.*`)));
    }
    const left: PresenceMember[] = [];
    await Promise.all(
      keys.map(async (key) => {
        for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
          const entry = await presence.get(key);
          const value = memberOf(entry);
          if (entry === null || value === undefined) {
            return;
          }
          const conns = Object.fromEntries(Object.entries(value.conns).filter(([id, node]) => !matches(id, node)));
          const remaining = Object.keys(conns).length;
          if (remaining === Object.keys(value.conns).length) {
            return;
          }
          try {
            if (remaining === 0) {
              await presence.delete(key, { previousSeq: entry.revision });
              left.push({ userId: untoken(key.slice(`m.${token(scope)}.`.length)), info: parseInfo(value.info) });
            } else {
              await presence.update(key, JSON.stringify({ ...value, conns }), entry.revision);
            }
            return;
          } catch {
            // changed meanwhile: read again
          }
        }
      }),
    );
    return left;
  }

  /** One heartbeat: say this node is alive, put its entries back if its record is gone, and clean up dead nodes. */
  protected async tick(): Promise<void> {
    await this.connections.run('heartbeat', async ({ presence, nodes }) => {
      await nodes.put(`n.${token(this.nodeId)}`, String(Date.now()));
      const record = await presence.get(this.#recordKey(this.nodeId));
      const lost = this.#recorded.size > 0 && (record === null || record.operation !== 'PUT');
      if (lost || this.resyncNeeded) {
        this.resyncNeeded = false;
        await this.#resync(presence);
      }
      await this.#reapDeadNodes(presence, nodes);
    });
  }

  /** Puts back this node's record and every connection it holds (after it was claimed while alive, say). */
  async #resync(presence: KV): Promise<void> {
    await this.#record(presence, [...this.held.keys()]);
    for (const [scope, entries] of this.held) {
      for (const [connectionId, entry] of entries) {
        await this.#addConnection(presence, scope, connectionId, entry.userId, entry.info, undefined);
      }
    }
  }

  /**
   * Claims nodes whose heartbeat expired, removes their connections scope by scope, reports who left, then deletes
   * their record. A claim is a compare-and-set on the record naming the claimer, so one survivor does the work; if
   * that survivor dies before it finished, another finds the claimer's heartbeat gone and claims it again (the
   * removals are idempotent: a member left then may be announced twice, never kept for ever).
   */
  async #reapDeadNodes(presence: KV, nodes: KV): Promise<void> {
    const alive = async (node: string) => {
      const heartbeat = await nodes.get(`n.${token(node)}`);
      return heartbeat !== null && heartbeat.operation === 'PUT';
    };
    const keys = await this.#keys(presence, 's.*');
    for (const key of keys) {
      const node = untoken(key.slice(2));
      if (node === this.nodeId || (await alive(node))) {
        continue;
      }
      const entry = await presence.get(key);
      const record = entry === null || entry.operation !== 'PUT' ? undefined : parseRecord(entry.string());
      if (entry === null || record === undefined) {
        continue;
      }
      if (record.claimedBy !== undefined && record.claimedBy !== this.nodeId && (await alive(record.claimedBy))) {
        continue; // another survivor is on it
      }
      try {
        await presence.update(key, JSON.stringify({ ...record, claimedBy: this.nodeId }), entry.revision);
      } catch {
        continue; // another survivor claimed it first
      }
      for (const scope of record.scopes) {
        this.announce(scope, await this.#removeConnections(presence, scope, (_id, owner) => owner === node));
      }
      await presence.delete(key);
    }
  }

  /**
   * The keys matching `filter`, listed within `requestTimeoutMs`: the KV key lister can wait for ever when the
   * listing races a change to the keys it lists, so a stalled listing is stopped and fails as NATS being unavailable.
   */
  async #keys(kv: KV, filter: string): Promise<string[]> {
    const iterator = await kv.keys(filter);
    const keys: string[] = [];
    const timeoutMs = this.connections.options.requestTimeoutMs;
    const listed = (async () => {
      for await (const key of iterator) {
        keys.push(key);
      }
      return true;
    })();
    if (!(await within(listed, timeoutMs, false))) {
      iterator.stop();
      throw new Error(`listing the keys "${filter}" timed out after ${timeoutMs} ms`);
    }
    return keys;
  }
}

/** A node's record: the scopes where it holds entries, and who is cleaning up after it once it died. */
interface NodeRecord {
  readonly scopes: string[];
  readonly claimedBy?: string;
}

function parseRecord(text: string): NodeRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<NodeRecord>;
    return Array.isArray(value.scopes) ? { scopes: value.scopes, claimedBy: value.claimedBy } : undefined;
  } catch {
    return undefined;
  }
}

function memberOf(entry: KvEntry | null): MemberValue | undefined {
  if (entry === null || entry.operation !== 'PUT') {
    return undefined;
  }
  try {
    return JSON.parse(entry.string()) as MemberValue;
  } catch {
    return undefined;
  }
}
