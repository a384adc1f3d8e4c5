import { ConnectionCounter } from './connection-counter.js';

/** The embedded counter: one process's connections, in memory. */
export class MemoryConnectionCounter extends ConnectionCounter {
  /** The user of each counted connection (null: anonymous). */
  readonly #users = new Map<string, string | null>();
  readonly #perUser = new Map<string | null, number>();

  add(connectionId: string, userId: string | null, limit?: number): Promise<boolean> {
    if (this.#users.has(connectionId)) {
      return Promise.resolve(true);
    }
    const count = this.#perUser.get(userId) ?? 0;
    if (limit !== undefined && userId !== null && count >= limit) {
      return Promise.resolve(false);
    }
    this.#users.set(connectionId, userId);
    this.#perUser.set(userId, count + 1);
    return Promise.resolve(true);
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
