import type { BrokerHealth } from '../broker/broker.js';
import { ClusterBroker } from '../broker/cluster-broker.js';
import type { RedisConnections } from './redis-connections.js';
import { topicKey } from './redis-keys.js';

/**
 * Delivery across instances on Redis pub/sub (sharded pub/sub on a Redis Cluster): the transport under {@link ClusterBroker}, which owns the routing
 * (local first, so local delivery goes on while Redis is away: the publish then rejects with
 * `RedisUnavailableError`, saying only this instance delivered it). Subscriptions follow local interest, so an
 * instance receives nothing for rooms nobody on it is in; they are renewed after every reconnect.
 *
 * Made by `redisRealtime()`.
 */
export class RedisBroker extends ClusterBroker {
  readonly #stops: (() => void)[] = [];

  /** @internal */
  constructor(
    /** @internal */
    readonly connections: RedisConnections,
  ) {
    super();
  }

  override health(): BrokerHealth {
    return this.connections.health();
  }

  protected async open(): Promise<void> {
    await this.connections.acquire();
    this.#stops.push(
      this.connections.onMessage((_channel, data) => this.receive(data)),
      this.connections.onSubscriberReady(() => void this.renew()),
    );
  }

  protected transmit(topic: string, data: string, what: string): Promise<number> {
    // Answers how many subscriptions received it: nodes with local interest (this one included, if it has).
    return this.connections.publish(topicKey(this.connections.keyPrefix, topic), data, what);
  }

  protected listen(topics: readonly string[]): Promise<void> {
    return this.#whenReady((channels) => this.connections.subscribe(channels), topics);
  }

  protected unlisten(topics: readonly string[]): Promise<void> {
    return this.#whenReady((channels) => this.connections.unsubscribe(channels), topics);
  }

  protected async shut(): Promise<void> {
    for (const stop of this.#stops.splice(0)) {
      stop();
    }
    await this.connections.release();
  }

  /** Runs a (un)subscription when subscriptions can be made; otherwise the renewal on `ready` does it. */
  async #whenReady(command: (channels: string[]) => Promise<void>, topics: readonly string[]): Promise<void> {
    if (!this.connections.subscriberReady()) {
      return;
    }
    try {
      await command(topics.map((topic) => topicKey(this.connections.keyPrefix, topic)));
    } catch (error) {
      // Lost the connection meanwhile: renewed on `ready`. A live connection that refused is a real failure.
      if (this.connections.subscriberReady()) {
        throw error;
      }
    }
  }
}
