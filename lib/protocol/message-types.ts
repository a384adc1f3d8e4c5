/** The WebSocket subprotocol of wire protocol v1 (JSON text frames). */
export const SUBPROTOCOL = 'realtime.v1';

/** Wire protocol v1 with MessagePack binary frames (the `msgpack` option). */
export const SUBPROTOCOL_MSGPACK = 'realtime.v1.msgpack';

/** Built-in application message types (the vocabulary of the services this library replaces). */
export const MessageType = {
  CHAT_PRIVATE: 'chat:private',
  CHAT_GROUP: 'chat:group',
  NOTIFICATION: 'notification',
  ALERT: 'alert',
  SYSTEM_TYPING: 'system:typing',
  SYSTEM_PRESENCE: 'system:presence',
} as const;

/** The message type of a named application event: `event:<name>`. */
export function eventType(name: string): `event:${string}` {
  return `event:${name}`;
}

/** Control frames a client sends; they never reach application handlers. */
export const ControlType = {
  SUBSCRIBE: 'subscribe',
  UNSUBSCRIBE: 'unsubscribe',
  WHISPER: 'whisper',
  PRESENCE: 'presence',
  HISTORY: 'history',
  PING: 'ping',
  /** `{type: 'refresh', id, payload: {token}}`: a fresh token for this connection, acked with `{expiresAt}`. */
  REFRESH: 'refresh',
} as const;

export type ControlType = (typeof ControlType)[keyof typeof ControlType];

/** Frames only the server sends. */
export const ServerFrameType = {
  ACK: 'ack',
  ERROR: 'error',
  SUBSCRIBED: 'subscribed',
  WHISPER: 'whisper',
  WELCOME: 'system:welcome',
  PRESENCE_DIFF: 'system:presence_diff',
  PRESENCE: 'system:presence',
  HISTORY: 'history',
  PONG: 'pong',
  /** `{expiresAt}`: the connection's token expires soon; send a `refresh` frame before, or be closed with 4007. */
  TOKEN_EXPIRING: 'system:token_expiring',
} as const;
