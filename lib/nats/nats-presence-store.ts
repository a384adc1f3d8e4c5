import type { BackendContext } from '../backend/backend-context.js';
import { parseInfo } from '../presence/presence-info.js';
import { type PresenceMember, PresenceStore } from '../presence/presence-store.js';
import type { NatsNodeEntries } from './nats-node-entries.js';

/**
 * Cluster-wide presence on NATS JetStream KV: one member per user across every instance, joins and leaves decided by
 * compare-and-set, so `system:user_joined`/`user_left` go out once per user for the whole cluster; the members of an
 * instance that died are removed by one survivor, which announces their leaves (see `NatsNodeEntries`).
 *
 * Made by `natsRealtime()`.
 */
export class NatsPresenceStore extends PresenceStore {
  #started = false;

  /** @internal */
  constructor(private readonly entries: NatsNodeEntries) {
    super();
  }

  override async start(context: BackendContext): Promise<void> {
    await this.entries.acquire(context);
    this.#started = true;
  }

  async add(channel: string, connectionId: string, member: PresenceMember): Promise<boolean> {
    return (await this.entries.add(channel, connectionId, member.userId, JSON.stringify(member.info))) === 1;
  }

  remove(channel: string, connectionId: string): Promise<PresenceMember | undefined> {
    return this.entries.remove(channel, connectionId);
  }

  setInfo(channel: string, member: PresenceMember): Promise<boolean> {
    return this.entries.setInfo(channel, member.userId, JSON.stringify(member.info));
  }

  async members(channel: string): Promise<PresenceMember[]> {
    return (await this.entries.members(channel)).map(({ userId, info }) => ({ userId, info: parseInfo(info) }));
  }

  async close(): Promise<void> {
    if (this.#started) {
      this.#started = false;
      await this.entries.release();
    }
  }
}
