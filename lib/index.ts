export { RealtimeModule } from './realtime.module.js';
export {
  REALTIME_DEFAULTS,
  RealtimeOptionsError,
  type RealtimeModuleOptions,
  type RealtimeOptionsFactory,
} from './realtime.options.js';
export {
  RealtimeService,
  type DisconnectOptions,
  type DisconnectTarget,
  type SendOptions,
} from './service/realtime.service.js';
export type { RealtimeMessage } from './service/envelope-factory.js';
export * from './decorators/index.js';
export * from './errors/index.js';
export * from './broker/index.js';
export type * from './interfaces/index.js';
export { getHandshakeToken } from './server/handshake-token.js';
export {
  CloseCode,
  ControlType,
  ErrorCode,
  MessageType,
  ServerFrameType,
  SUBPROTOCOL,
  eventType,
  type ErrorBody,
  type EnvelopeMetadata,
  type FrameId,
  type InboundFrame,
  type RealtimeEnvelope,
  type WelcomePayload,
} from './protocol/index.js';
