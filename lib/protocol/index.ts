// nestjs-realtime/protocol: wire protocol v1 for client authors (a client in another language, a custom one): the
// subprotocols, frame types, envelopes, payloads of the server's frames, error and close codes, limits. App authors
// find what they use (ErrorCode, CloseCode, MessageType, InboundFrame, RealtimeEnvelope) at the root entry point too.
export {
  SUBPROTOCOL,
  SUBPROTOCOL_MSGPACK,
  MessageType,
  ControlType,
  ServerFrameType,
  eventType,
} from './message-types.js';
export { ErrorCode, CloseCode } from './error-codes.js';
export { PROTOCOL_LIMITS } from './limits.js';
export type { ErrorBody, EnvelopeMetadata, FrameId, InboundFrame, RealtimeEnvelope } from './envelope.js';
export type {
  MemberPayload,
  PongPayload,
  PresenceDiffPayload,
  PresencePage,
  SubscribedPayload,
  WelcomePayload,
} from './frames.js';
