type Handler = (...args: unknown[]) => void;

/** A tiny typed event emitter (no Node `events`: the client runs in browsers). */
export class Emitter<Events extends Record<string, unknown[]>> {
  readonly #handlers = new Map<keyof Events, Set<Handler>>();

  /** Adds a handler; returns a function that removes it. */
  on<K extends keyof Events>(event: K, handler: (...args: Events[K]) => void): () => void {
    let handlers = this.#handlers.get(event);
    if (handlers === undefined) {
      handlers = new Set();
      this.#handlers.set(event, handlers);
    }
    const added = handler as unknown as Handler;
    handlers.add(added);
    return () => handlers.delete(added);
  }

  /** Calls the handlers in order; one that throws is reported (asynchronously) and does not stop the others. */
  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    for (const handler of [...(this.#handlers.get(event) ?? [])]) {
      try {
        handler(...args);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
