import type { BackendContext } from '../backend/backend-context.js';
import { ConnectionCounter } from '../connection/connection-counter.js';
import { CONNECTIONS_SCOPE, type NatsNodeEntries } from './nats-node-entries.js';

/** The user under which anonymous connections are counted. */
const ANONYMOUS = '';

/**
 * Connection counts for the whole cluster on NATS JetStream KV, so `maxConnectionsPerUser` holds across instances: a
 * handshake is checked against the cap and counted by one compare-and-set. Counting all connections reads every
 * user's entry (`countConnections()` without a user is O(users)).
 *
 * Made by `natsRealtime()`.
 */
export class NatsConnectionCounter extends ConnectionCounter {
  #started = false;

  /** @internal */
  constructor(private readonly entries: NatsNodeEntries) {
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
    if (userId !== undefined) {
      return this.entries.connectionsOf(CONNECTIONS_SCOPE, userId);
    }
    const members = await this.entries.members(CONNECTIONS_SCOPE);
    return members.reduce((total, member) => total + member.connections, 0);
  }

  override async close(): Promise<void> {
    if (this.#started) {
      this.#started = false;
      await this.entries.release();
    }
  }
}
