/** Records events and lets a test wait for one that matches, with a timeout (no sleeps). */
export class EventLog<T> {
  readonly events: T[] = [];
  readonly #waiters: { match: (event: T) => boolean; resolve: (event: T) => void }[] = [];

  push(event: T): void {
    this.events.push(event);
    for (const waiter of [...this.#waiters]) {
      if (waiter.match(event)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  }

  /** Resolves with the first recorded or future event that matches. */
  waitFor(match: (event: T) => boolean, timeoutMs = 5000): Promise<T> {
    const found = this.events.find(match);
    if (found !== undefined) {
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No matching event within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  }
}
