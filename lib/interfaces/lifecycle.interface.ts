import type { RealtimeClient } from './realtime-client.interface.js';

/** Implemented by any provider: called after a connection is established and welcomed. */
export interface OnRealtimeConnect {
  onRealtimeConnect(client: RealtimeClient): void | Promise<void>;
}

/** Why a connection ended. */
export interface DisconnectInfo {
  /** The WebSocket close code (1006 when the connection dropped without a close frame). */
  readonly code: number;
  readonly reason: string;
}

/** Implemented by any provider: called once a connection has closed, after it left its channels. */
export interface OnRealtimeDisconnect {
  onRealtimeDisconnect(client: RealtimeClient, info: DisconnectInfo): void | Promise<void>;
}
