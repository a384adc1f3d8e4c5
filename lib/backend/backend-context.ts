import type { BrokerListener } from '../broker/broker.js';
import type { PresenceExpiryListener } from '../presence/presence-store.js';

/**
 * What the module hands every backend when it starts (the broker, the presence, history and rate-limit stores, the
 * connection counter): each one's `start(context)` is called once at bootstrap, in that order, and its `close()`
 * once at shutdown, in reverse. A backend uses what it needs and ignores the rest.
 */
export interface BackendContext {
  /** This instance's id: unique in the cluster, the prefix of its connection ids (`<nodeId>.<sequence>`). */
  readonly nodeId: string;
  /** Hands a broker message to this node's connections and returns how many it was written to (brokers call it). */
  readonly deliver: BrokerListener;
  /**
   * A presence store that removed members by itself (those of an instance that died without leaving) calls this once
   * per member, on one node only, so the module announces their leave.
   */
  readonly presenceExpired: PresenceExpiryListener;
}
