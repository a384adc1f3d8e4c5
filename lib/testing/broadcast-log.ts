import type { RealtimeService } from '../service/realtime.service.js';
import { FrameInbox, type ReceivedFrame } from './frame-inbox.js';

/**
 * What the app published to channels while a test ran (through `RealtimeService.broadcastToChannel`, which
 * handlers, the service and batches use), recorded as the message was handed over, before any encoding.
 */
export class BroadcastLog {
  readonly inbox = new FrameInbox();
  readonly #restore: () => void;

  constructor(service: RealtimeService) {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the service as `this` below
    const original = service.broadcastToChannel;
    const inbox = this.inbox;
    service.broadcastToChannel = function (this: RealtimeService, channel, message, options) {
      inbox.push({ ...(message as ReceivedFrame), channel });
      return original.call(this, channel, message, options);
    } as RealtimeService['broadcastToChannel'];
    this.#restore = () => {
      service.broadcastToChannel = original;
    };
  }

  stop(): void {
    this.#restore();
  }
}
