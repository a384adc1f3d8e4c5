import type { BackendContext } from '../backend/backend-context.js';
import { ConnectionCounter } from '../connection/connection-counter.js';
import { CONNECTIONS_SCOPE } from './redis-keys.js';
import type { RedisNodeEntries } from './redis-node-entries.js';

/** The user under which anonymous connections are counted. */
const ANONYMOUS = '';

/**
 * Connection counts for the whole cluster on Redis, so `maxConnectionsPerUser` holds across instances: a handshake
 * is counted and checked against the cap in one atomic step (one round trip). The connections of an instance that
 * died are taken out by one survivor, like its presence members.
 *
 * Made by `redisRealtime()`.
 */
export class RedisConnectionCounter extends ConnectionCounter {
  #started = false;

  /** @internal */
  constructor(private readonly entries: RedisNodeEntries) {
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

  async count(userId?: string): Promise<number> {
    const base = `${this.entries.scopeKey(CONNECTIONS_SCOPE)}:presence`;
    return this.entries.connections.run('counting connections', async (redis) =>
      userId === undefined ? redis.hlen(`${base}:conns`) : Number((await redis.hget(`${base}:users`, userId)) ?? 0),
    );
  }

  override async close(): Promise<void> {
    if (this.#started) {
      this.#started = false;
      await this.entries.release();
    }
  }
}
