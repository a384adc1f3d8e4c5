import type { BackendContext } from '../backend/backend-context.js';

/**
 * Counts the connections of the cluster, in total and per user (every device, every node), and enforces
 * `maxConnectionsPerUser` where it counts: a shared counter (on Redis) makes the cap hold for the whole cluster, the
 * embedded {@link MemoryConnectionCounter} for one process. Provide another with the `connectionCounter` option.
 */
export abstract class ConnectionCounter {
  /** Starts the counter (the same lifecycle as every backend: see `BackendContext`). The default does nothing. */
  start(_context: BackendContext): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Counts a connection (`userId` null: anonymous). With `limit`, atomically: when the user has `limit` connections
   * already, nothing is counted and it resolves false. Resolves true when counted.
   */
  abstract add(connectionId: string, userId: string | null, limit?: number): Promise<boolean>;

  /** Takes a connection out of the counts (a connection it does not know is ignored). */
  abstract remove(connectionId: string, userId: string | null): Promise<void>;

  /** How many connections there are: all of them, or those of one user. */
  abstract count(userId?: string): Promise<number>;

  /** Stops the counter and releases its resources. The default does nothing. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
