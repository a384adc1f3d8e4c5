import type { RealtimeEnvelope } from '../protocol/envelope.js';

/** A frame as the server sends it (see docs/protocol.md). A type only: nothing is imported at run time. */
export type ServerMessage<TPayload = unknown> = RealtimeEnvelope<TPayload>;

/**
 * Message types to their payloads (an interface such as `{ 'chat:group': { text: string } }`): typed `on()` and
 * `request()`. The default accepts any type with any payload.
 */
export type MessageMap = Record<string, unknown>;

/** Request types to what their ack carries. */
export type AckMap = Record<string, unknown>;

/** Where the client is: `connecting` (a handshake in flight), `connected`, `disconnected` (waiting to reconnect) or `closed` (stopped: by `close()`, a refusal, or giving up). */
export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** What the `state` event says: the states before and after, and for a closed connection its close code and reason. */
export interface StateChange {
  readonly from: ConnectionState;
  readonly to: ConnectionState;
  /** Why, when the connection went away: the WebSocket close code (1006: dropped without one), if there was one. */
  readonly code?: number;
  /** Why, in words: the close reason, or what made the client stop. */
  readonly reason?: string;
}

/** A member of a presence channel. */
export interface PresenceMember {
  readonly userId: string;
  readonly info: Readonly<Record<string, unknown>>;
}

/** The part of the WebSocket API the client uses: the browser's, or `ws` in Node. */
export interface WebSocketLike {
  readonly readyState: number;
  /** Set to `'arraybuffer'`: binary frames (messages with bytes) are decoded from it. */
  binaryType: string;
  /** Sends a text or binary frame. */
  send(data: string | Uint8Array): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Listens for frames. */
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  /** Listens for the close, with its code and reason. */
  addEventListener(type: 'close', listener: (event: { readonly code: number; readonly reason: string }) => void): void;
  /** Listens for errors (a close follows). */
  addEventListener(type: 'error', listener: (event: object) => void): void;
}

/** A WebSocket class as the client creates it: the browser's `WebSocket`, or `ws` in Node. */
export type WebSocketConstructor = new (url: string, protocols: string | string[]) => WebSocketLike;

/** How a `RealtimeClient` connects, authenticates, reconnects and queues while offline. */
export interface RealtimeClientOptions {
  /** The handshake token (see `tokenIn`). */
  readonly token?: string;
  /**
   * Where the token travels. `'protocol'` (default): a `bearer.<token>` entry of `Sec-WebSocket-Protocol` beside
   * `realtime.v1`, so it stays out of URLs (which end up in proxy and server logs; browsers cannot set WebSocket
   * headers). `'query'`: the `token` query parameter. A token with characters a subprotocol cannot hold (an opaque
   * token with `/` or `=`) goes in the query whatever this says. The server's `getHandshakeToken` reads all of them.
   */
  readonly tokenIn?: 'protocol' | 'query';
  /** Called before every connect, so an expiring token is refreshed; wins over `token`. */
  readonly getToken?: () => string | Promise<string>;
  /** The WebSocket constructor: the browser's by default; in Node, `WebSocket` from `ws`. */
  readonly WebSocket?: WebSocketConstructor;
  /**
   * Reconnects with full-jitter exponential backoff, from `minDelayMs` (500) up to `maxDelayMs` (30 000), giving up
   * after `maxAttempts` failed attempts in a row (default: never). `false`: never reconnect.
   */
  readonly reconnect?:
    { readonly minDelayMs?: number; readonly maxDelayMs?: number; readonly maxAttempts?: number } | false;
  /**
   * `request()` and `send()` made while (re)connecting wait, up to this many, and go out in order once the client is
   * connected and resubscribed; past it they fail with `DISCONNECTED`. Default 100; `0`: they fail at once.
   */
  readonly offlineQueue?: number;
  /** How long `request()` waits for its answer by default. Default 10 000 ms. */
  readonly requestTimeoutMs?: number;
}

/** Where a message goes: a channel, or a user (direct messages), and its metadata. */
export interface SendOptions {
  readonly channel?: string;
  readonly recipient?: string;
}

/** Where a request goes (see {@link SendOptions}), and how long its ack may take. */
export interface RequestOptions extends SendOptions {
  /** How long to wait for the answer, from the call (time in the offline queue counts). */
  readonly timeoutMs?: number;
}

/** Where a subscription's channel history stands after a (re)subscribe. */
export interface SubscribedInfo {
  /**
   * After a reconnect: whether every missed message was replayed (they arrive next, in order). `false`: some are
   * gone (the history moved on or was lost); reload the channel's state.
   */
  readonly recovered: boolean;
  readonly epoch?: string;
  readonly offset?: number;
}
