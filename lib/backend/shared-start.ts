/**
 * Something the backends made by one factory share (a connection, an instance's entries): started by the first user,
 * stopped when the last one releases it. A user that comes while it starts waits for the same start; a failed start
 * counts nobody, and the next user starts it again.
 */
export class SharedStart<T> {
  #users = 0;
  #started: Promise<T> | undefined;

  constructor(private readonly stop: () => Promise<void>) {}

  /** Counts the caller as a user; `start` runs for the first one only. */
  async acquire(start: () => Promise<T>): Promise<T> {
    this.#users++;
    this.#started ??= start();
    try {
      return await this.#started;
    } catch (error) {
      this.#users--;
      this.#started = undefined;
      throw error;
    }
  }

  /** The caller is done; the last one stops it. A release without an acquire does nothing. */
  async release(): Promise<void> {
    if (this.#users === 0 || --this.#users > 0) {
      return;
    }
    this.#started = undefined;
    await this.stop();
  }
}
