import type { BackendContext } from '../backend-context.js';

/** The context a backend gets outside an app: this node's id, nothing delivered, expiries ignored. */
export function conformanceContext(nodeId: string): BackendContext {
  return { nodeId, deliver: () => 0, presenceExpired: () => undefined };
}

interface Backend {
  start(context: BackendContext): Promise<void>;
  /** Ends what `open` started (called after each test). */
  close(): Promise<void>;
}

/** Two started backends, as the suites' `open` returns them. */
export interface StartedPair<T> {
  readonly nodes: [T, T];
  /** Closes both. */
  close(): Promise<void>;
}

/** Starts one backend of each of two instances (as nodes a and b); `close` closes both. */
export async function startedPair<T extends Backend>(a: T, b: T): Promise<StartedPair<T>> {
  await a.start(conformanceContext('node-a'));
  await b.start(conformanceContext('node-b'));
  return { nodes: [a, b], close: async () => void (await Promise.all([a.close(), b.close()])) };
}
