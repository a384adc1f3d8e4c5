import type { Subscription } from '@nats-io/transport-node';
import type { BrokerHealth } from '../broker/broker.js';
import { ClusterBroker } from '../broker/cluster-broker.js';
import type { NatsConnections } from './nats-connections.js';

/** The NATS header that carries a kept message's route (the broker wire header) in the history stream. */
export const ROUTE_HEADER = 'Realtime-Route';

/**
 * Delivery across instances on core NATS subjects (`<prefix>.t.<topic>`): the transport under
 * {@link ClusterBroker}, which owns the routing. Subscriptions follow local interest; the NATS client keeps them
 * across reconnects. A core NATS publish cannot tell how many received it, so `forwarded` is -1 (the module then asks
 * the connection counter whether a user is online).
 *
 * Messages of channels with history are kept in a JetStream stream in offset order, and every instance reads them
 * from it with one ordered consumer (from the newest on), so all instances see a channel's kept messages in offset
 * order even with publishers on several instances. The cost: every instance receives every kept message, also of
 * channels none of its connections is in.
 *
 * Made by `natsRealtime()`.
 */
export class NatsBroker extends ClusterBroker {
  readonly #subscriptions = new Map<string, Subscription>();
  #stopHistory: (() => void) | undefined;

  /** @internal */
  constructor(
    /** @internal */
    readonly connections: NatsConnections,
  ) {
    super();
  }

  override health(): BrokerHealth {
    return this.connections.health();
  }

  protected async open(): Promise<void> {
    const { js } = await this.connections.acquire();
    const { DeliverPolicy } = await import('@nats-io/jetstream');
    const { names } = this.connections;
    const consumer = await js.consumers.get(names.historyStream, {
      // One subject: servers before 2.10 take no list.
      filter_subjects: names.historySubjects,
      deliver_policy: DeliverPolicy.New,
    });
    const messages = await consumer.consume();
    this.#stopHistory = () => void messages.close();
    void (async () => {
      for await (const message of messages) {
        const route = message.headers?.get(ROUTE_HEADER);
        if (route) {
          this.receive(`${route}\n${message.string()}`);
        }
      }
    })();
  }

  protected transmit(topic: string, data: string, what: string): Promise<number> {
    const { nc } = this.connections.handles(what);
    nc.publish(this.connections.names.topic(topic), data);
    return Promise.resolve(-1);
  }

  protected async listen(topics: readonly string[]): Promise<void> {
    const { nc } = this.connections.handles('subscribing');
    for (const topic of topics) {
      if (!this.#subscriptions.has(topic)) {
        const subscription = nc.subscribe(this.connections.names.topic(topic), {
          callback: (error, message) => {
            if (error === null) {
              this.receive(message.string());
            }
          },
        });
        this.#subscriptions.set(topic, subscription);
      }
    }
    // A round trip: the server has the interest once this resolves, so a publish from elsewhere after it reaches us.
    await nc.flush();
  }

  protected unlisten(topics: readonly string[]): Promise<void> {
    for (const topic of topics) {
      this.#subscriptions.get(topic)?.unsubscribe();
      this.#subscriptions.delete(topic);
    }
    return Promise.resolve();
  }

  protected async shut(): Promise<void> {
    this.#stopHistory?.();
    for (const subscription of this.#subscriptions.values()) {
      subscription.unsubscribe();
    }
    this.#subscriptions.clear();
    await this.connections.release();
  }
}
