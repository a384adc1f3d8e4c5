export { RealtimeModule } from './realtime.module.js';
export {
  REALTIME_DEFAULTS,
  RealtimeOptionsError,
  type AsyncApiOptions,
  type RealtimeModuleOptions,
  type RealtimeOptionsFactory,
} from './realtime.options.js';
export {
  RealtimeService,
  type DeliveryOptions,
  type DisconnectOptions,
  type DisconnectTarget,
  type RealtimeHealth,
  type SendOptions,
} from './service/realtime.service.js';
export type { RealtimeMessage } from './service/envelope-factory.js';
export type { BatchOptions, BatchPayload, BatchedMessage } from './service/message-batcher.js';
export { BATCH_TYPE } from './service/realtime.service.js';
export * from './decorators/index.js';
export { RealtimeValidationPipe } from './validation/realtime-validation.pipe.js';
export { RealtimeAsyncApi } from './contract/realtime-asyncapi.js';
export { StandardSchemaPipe, isStandardSchema, type StandardSchemaV1 } from './validation/standard-schema.js';
export type { ChannelHistoryOptions, ChannelOptions, ChannelPresenceOptions } from './channels/channel-options.js';
export type {
  CanJoin,
  JoinVerdict,
  MessageContext,
  OnWhisper,
  Whisper,
  WhisperVerdict,
} from './channels/channel-definition.js';
// The backends an app configures (the `broker`, `presenceStore`, `historyStore` and `connectionCounter` options);
// what backend authors need (the base classes, topicOf, the conformance suites) is in nestjs-realtime/backend.
export type { PresenceMember } from './presence/presence-store.js';
export { MemoryPresenceStore } from './presence/memory-presence-store.js';
export { MemoryConnectionCounter } from './connection/memory-connection-counter.js';
export { MemoryHistoryStore, type MemoryHistoryStoreOptions } from './history/memory-history-store.js';
export { LocalBroker } from './broker/local-broker.js';
export type { BrokerHealth } from './broker/broker.js';
export { PER_MESSAGE_DEFLATE_DEFAULTS } from './protection/protection.options.js';
export type {
  BackpressureOptions,
  OriginCheck,
  PerMessageDeflateOptions,
  ProtectionOptions,
  RealtimeRateLimitOptions,
} from './protection/protection.options.js';
export type { HandlerStats, RealtimeStatsSnapshot } from './operations/realtime-stats.js';
export { RealtimeLoggingInterceptor } from './operations/realtime-logging.interceptor.js';
export { RealtimeMetricsInterceptor } from './operations/realtime-metrics.interceptor.js';
export { RateLimit } from './protection/rate-limit.decorator.js';
export { RateLimitGuard } from './protection/rate-limit.guard.js';
export type { RateLimitRule } from './protection/rate-limit-store.js';
export { MemoryRateLimitStore, type MemoryRateLimitStoreOptions } from './protection/memory-rate-limit-store.js';
export * from './errors/index.js';
export type * from './interfaces/index.js';
export { getHandshakeToken } from './server/handshake-token.js';
export { jwtAuth, JwtRefusedError, type JwtAuthenticate } from './auth/jwt-auth.js';
export type { JwtAuthOptions } from './auth/jwt-options.js';
// The protocol's names app code uses; the whole wire protocol, for client authors, is in nestjs-realtime/protocol.
export { CloseCode, ErrorCode, MessageType, eventType } from './protocol/index.js';
export type { EnvelopeMetadata, FrameId, InboundFrame, RealtimeEnvelope } from './protocol/index.js';
