import { EntriesConnectionCounter } from '../backend/member-entries.js';

/**
 * Connection counts for the whole cluster on NATS JetStream KV, so `maxConnectionsPerUser` holds across instances: a
 * handshake is checked against the cap and counted by one compare-and-set. Counting all connections reads every
 * user's entry (`countConnections()` without a user is O(users)).
 *
 * Made by `natsRealtime()`.
 */
export class NatsConnectionCounter extends EntriesConnectionCounter {}
