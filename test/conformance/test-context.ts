import type { BackendContext } from 'nestjs-realtime';

/** The context a store gets outside an app: this node's id, nothing delivered, expiries ignored. */
export const TEST_CONTEXT = (nodeId: string): BackendContext => ({
  nodeId,
  deliver: () => 0,
  presenceExpired: () => undefined,
});
