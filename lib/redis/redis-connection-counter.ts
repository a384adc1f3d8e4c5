import { EntriesConnectionCounter } from '../backend/member-entries.js';

/**
 * Connection counts for the whole cluster on Redis, so `maxConnectionsPerUser` holds across instances: a handshake
 * is counted and checked against the cap in one atomic step (one round trip). The connections of an instance that
 * died are taken out by one survivor, like its presence members.
 *
 * Made by `redisRealtime()`.
 */
export class RedisConnectionCounter extends EntriesConnectionCounter {}
