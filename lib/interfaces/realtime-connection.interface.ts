/**
 * One WebSocket connection, as handlers, guards and hooks see it (`@ConnectedClient()`,
 * `context.switchToWs().getClient()`, `RealtimeService.getConnection`): a read-only view of the live connection
 * (its fields follow it: `metadata`, `channels`, `rttMs`, ...). Send and disconnect through `RealtimeService`.
 */
export interface RealtimeConnection {
  /** Unique id of this connection. */
  readonly id: string;
  /** The authenticated user, or `null` for an anonymous connection. */
  readonly userId: string | null;
  /** What the authenticator returned as `metadata`, as changed since by `setMetadata`. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /**
   * Sets metadata keys (a key set to `undefined` is removed) and returns the new metadata: guards and handlers of
   * this connection's next frames see it. Bounded by `maxMetadataEntries` and `maxMetadataBytes` (as JSON); past
   * them, or for a value that is not JSON, it throws and nothing changes. The same as `RealtimeService.setMetadata`.
   */
  setMetadata(patch: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>>;
  /** What the authenticator returned as `info`: shown to other members of presence channels. `{}` by default. */
  readonly info: Readonly<Record<string, unknown>>;
  /** The client's IP address: the socket's peer, or the address behind trusted proxies (`trustProxy`). */
  readonly remoteAddress: string;
  readonly connectedAt: Date;
  /** The negotiated subprotocol (`realtime.v1`), or `''` when the client offered none. */
  readonly protocol: string;
  /** The channels this connection is subscribed to. */
  readonly channels: readonly string[];
  /** Whether this connection is subscribed to `channel`. */
  isSubscribed(channel: string): boolean;
  /**
   * The round trip of the last heartbeat ping, in milliseconds (undefined before the first pong): the connection's
   * latency, also sent to the client in the answer to its `ping`.
   */
  readonly rttMs: number | undefined;
  /** When its credential expires (ms since the epoch), moved by each accepted `refresh`; undefined: never. */
  readonly expiresAt: number | undefined;
  /** Bytes queued for this connection and not yet handed to the network: how far behind it is. */
  readonly bufferedBytes: number;
}

/**
 * @deprecated Renamed {@link RealtimeConnection} (the client SDK's `RealtimeClient` is another thing). This alias
 * goes in the next minor version.
 */
export type RealtimeClient = RealtimeConnection;
