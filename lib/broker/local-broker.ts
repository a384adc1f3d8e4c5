import type { BackendContext } from '../backend/backend-context.js';
import { Broker, type BrokerListener, type BrokerMessage, type PublishReport } from './broker.js';

/**
 * The embedded broker: delivers in-process, synchronously, to the one node it serves. Interest is irrelevant here
 * because every local member is already known to the node.
 */
export class LocalBroker extends Broker {
  #deliver: BrokerListener | undefined;

  start(context: BackendContext): Promise<void> {
    this.#deliver = context.deliver;
    return Promise.resolve();
  }

  publish(message: BrokerMessage): Promise<PublishReport> {
    if (!this.#deliver) {
      return Promise.reject(new Error('LocalBroker is not started (the realtime server is not running)'));
    }
    return Promise.resolve({ delivered: this.#deliver(message), forwarded: 0 });
  }

  subscribe(_topic: string): Promise<void> {
    return Promise.resolve();
  }

  unsubscribe(_topic: string): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#deliver = undefined;
    return Promise.resolve();
  }
}
