import type { BackendContext } from 'nestjs-realtime';

/** The context a store gets outside an app: this node's id, nothing delivered, expiries ignored. */
export const TEST_CONTEXT = (nodeId: string): BackendContext => ({
  nodeId,
  deliver: () => 0,
  presenceExpired: () => undefined,
});

interface Backend {
  start(context: BackendContext): Promise<void>;
  close(): Promise<void>;
}

/** Starts one backend of each of two instances (as nodes a and b); `close` closes both. */
export async function startedPair<T extends Backend>(a: T, b: T): Promise<{ nodes: [T, T]; close(): Promise<void> }> {
  await a.start(TEST_CONTEXT('node-a'));
  await b.start(TEST_CONTEXT('node-b'));
  return { nodes: [a, b], close: async () => void (await Promise.all([a.close(), b.close()])) };
}
