export { RealtimeError, type RealtimeErrorCode } from './errors.js';
export { RealtimeClient } from './realtime-client.js';
export { type HistoryPage, Subscription } from './subscription.js';
export type {
  AckMap,
  ConnectionState,
  MessageMap,
  PresenceMember,
  RealtimeClientOptions,
  RequestOptions,
  SendOptions,
  ServerMessage,
  StateChange,
  SubscribedInfo,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';
