import { CONNECTIONS_SCOPE } from '../backend/member-entries.js';

/**
 * Where things live in Redis. Every name carries a hash tag (`{...}`), so on a Redis Cluster everything of one
 * channel (its pub/sub channel, presence and history) lands on the channel's slot, where one Lua script can touch
 * it atomically; on one Redis the tags change nothing. Channel names cannot hold braces (see `protocol/limits.ts`).
 *
 * - `<prefix>{<topic>}`: the pub/sub channel of a broker topic (`channel:<name>`, `user:<id>`, `node:<id>`, `all`);
 *   for `channel:<name>`, also the base of the channel's keys:
 *   - `...:presence:conns` (connection -> user), `:users` (user -> connections), `:info` (user -> info JSON),
 *     `:node:<id>` (the connections an instance holds in the scope, so a dead instance's can be removed)
 *   - `...:history:meta` (epoch, offset) and `...:history:log`, a stream with ids `<offset>-<time ms>`
 * - `<prefix>{connections}`: the same presence keys for the scope that counts every connection of the cluster
 * - `<prefix>{nodes}`: sorted set of instance ids, scored by their last heartbeat (Redis time, ms), and
 *   `<prefix>{nodes}:scopes:<id>`, the scopes where an instance holds entries
 */

/** The pub/sub channel of a broker topic. */
export function topicKey(prefix: string, topic: string): string {
  return `${prefix}{${topic}}`;
}

/** The base of a presence scope's keys: a channel's own tag, or the connections scope's. */
export function scopeKey(prefix: string, scope: string): string {
  return scope === CONNECTIONS_SCOPE ? `${prefix}{connections}` : `${prefix}{channel:${scope}}`;
}

/** The base of the node registry's keys. */
export function nodesKey(prefix: string): string {
  return `${prefix}{nodes}`;
}
