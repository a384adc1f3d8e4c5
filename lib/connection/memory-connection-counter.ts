import { ConnectionCounter } from './connection-counter.js';

/** The embedded counter: one process's connections, in memory. */
export class MemoryConnectionCounter extends ConnectionCounter {
  /** The user of each counted connection (null: anonymous). */
  readonly #users = new Map<string, string | null>();
  readonly #perUser = new Map<string | null, number>();

  add(connectionId: string, userId: string | null, limit?: number): Promise<boolean> {
    return Promise.resolve(this.addNow(connectionId, userId, limit));
  }

  /** {@link add}, synchronously: the handshake gate counts with it, waiting for nothing. */
  addNow(connectionId: string, userId: string | null, limit?: number): boolean {
    if (this.#users.has(connectionId)) {
      return true;
    }
    const count = this.#perUser.get(userId) ?? 0;
    if (limit !== undefined && userId !== null && count >= limit) {
      return false;
    }
    this.#users.set(connectionId, userId);
    this.#perUser.set(userId, count + 1);
    return true;
  }

  remove(connectionId: string): Promise<void> {
    if (this.#users.has(connectionId)) {
      const userId = this.#users.get(connectionId) ?? null;
      this.#users.delete(connectionId);
      const count = this.#perUser.get(userId) ?? 1;
      if (count > 1) {
        this.#perUser.set(userId, count - 1);
      } else {
        this.#perUser.delete(userId);
      }
    }
    return Promise.resolve();
  }

  count(userId?: string): Promise<number> {
    return Promise.resolve(userId === undefined ? this.#users.size : (this.#perUser.get(userId) ?? 0));
  }

  override close(): Promise<void> {
    this.#users.clear();
    this.#perUser.clear();
    return Promise.resolve();
  }
}
