export {
  RealtimeTesting,
  type RealtimeTestingOptions,
  type RealtimeTransport,
  type TestConnectOptions,
} from './realtime-testing.js';
export {
  RealtimeTestClient,
  type CloseEvent,
  type HistoryPage,
  type SendOptions,
  type WaitOptions,
} from './realtime-test-client.js';
export { RealtimeTestError } from './realtime-test-error.js';
export type { ReceivedFrame } from './frame-inbox.js';
export type { PayloadMatcher } from './payload-matcher.js';
export type { MemberPayload, PresenceDiffPayload, PresencePage, SubscribedPayload } from '../protocol/frames.js';
