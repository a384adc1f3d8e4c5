import { EntriesPresenceStore } from '../backend/member-entries.js';

/**
 * Cluster-wide presence on NATS JetStream KV: one member per user across every instance, joins and leaves decided by
 * compare-and-set, so joins and leaves are announced once per user for the whole cluster; the members of an
 * instance that died are removed by one survivor, which announces their leaves (see `NatsNodeEntries`).
 *
 * Made by `natsRealtime()`.
 */
export class NatsPresenceStore extends EntriesPresenceStore {}
