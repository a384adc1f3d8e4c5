import { Logger } from '@nestjs/common';
import {
  Broker,
  type BrokerHealth,
  type BrokerListener,
  type BrokerMessage,
  type PublishReport,
  nodeIdOfConnection,
  topicOf,
} from '../broker/broker.js';
import { decodeBrokerMessage, encodeBrokerMessage } from './broker-wire.js';
import type { RedisConnections } from './redis-connections.js';

/**
 * Delivery across instances on Redis pub/sub. A message is encoded once by the node that publishes it; every node
 * hands the same frame to its own connections. This node's own connections get it at once, without the round trip,
 * so local delivery goes on while Redis is away (the publish then rejects with `RedisUnavailableError`, saying only
 * this instance delivered it). A message for a channel with history is the exception: it travels through Redis to
 * every node, this one included, in the order of its offset.
 *
 * Subscriptions follow local interest (the module subscribes a topic when its first local member appears), so an
 * instance receives nothing for rooms nobody on it is in. They are renewed after every reconnect.
 *
 * Made by `redisRealtime()`.
 */
export class RedisBroker extends Broker {
  readonly #logger = new Logger('RealtimeRedis');
  readonly #topics = new Set<string>();
  readonly #stops: (() => void)[] = [];
  #nodeId = '';
  #listener: BrokerListener | undefined;

  /** @internal */
  constructor(
    /** @internal */
    readonly connections: RedisConnections,
  ) {
    super();
  }

  async start(nodeId: string, listener: BrokerListener): Promise<void> {
    await this.connections.acquire();
    this.#nodeId = nodeId;
    this.#listener = listener;
    this.#stops.push(
      this.connections.onMessage((_channel, data) => this.#receive(data)),
      this.connections.onSubscriberReady(() => void this.#renew()),
    );
    await this.#renew();
  }

  async publish(message: BrokerMessage): Promise<PublishReport> {
    const listener = this.#listener;
    if (listener === undefined) {
      throw new Error('RedisBroker is not started (the realtime server is not running)');
    }
    const here = targetNode(message);
    if (here === this.#nodeId) {
      return { delivered: listener(message), forwarded: 0 };
    }
    // A channel's kept messages must reach every node in offset order: they all go through Redis.
    const localFirst = here === undefined && !(message.kind === 'channel' && message.offset !== undefined);
    const delivered = localFirst ? listener(message) : 0;
    const channel = this.connections.keyPrefix + topicOf(message);
    const data = encodeBrokerMessage(message, localFirst ? this.#nodeId : undefined);
    const what = localFirst
      ? "the message was delivered to this instance's connections only"
      : 'the message was not delivered';
    // PUBLISH answers how many subscriptions received it: nodes with local interest (this one included, if it has).
    const forwarded = await this.connections.run(what, (redis) => redis.publish(channel, data));
    return { delivered, forwarded };
  }

  async subscribe(topic: string): Promise<void> {
    if (this.#topics.has(topic)) {
      return;
    }
    this.#topics.add(topic);
    // Without a ready subscriber, the subscription is made by the renewal when it is ready.
    await this.connections
      .subscriber()
      ?.subscribe(this.connections.keyPrefix + topic)
      .catch(() => undefined);
  }

  async unsubscribe(topic: string): Promise<void> {
    if (!this.#topics.delete(topic)) {
      return;
    }
    await this.connections
      .subscriber()
      ?.unsubscribe(this.connections.keyPrefix + topic)
      .catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.#listener === undefined) {
      return;
    }
    this.#listener = undefined;
    for (const stop of this.#stops.splice(0)) {
      stop();
    }
    this.#topics.clear();
    await this.connections.release();
  }

  override health(): BrokerHealth {
    return this.connections.health();
  }

  #receive(data: string): void {
    const decoded = decodeBrokerMessage(data);
    if (decoded === undefined) {
      this.#logger.warn(`Ignored a message on Redis that is not a realtime message (${data.length} characters)`);
      return;
    }
    if (decoded.from !== this.#nodeId) {
      this.#listener?.(decoded.message);
    }
  }

  async #renew(): Promise<void> {
    const subscriber = this.connections.subscriber();
    if (subscriber === undefined || this.#topics.size === 0) {
      return;
    }
    const prefix = this.connections.keyPrefix;
    try {
      await subscriber.subscribe(...[...this.#topics].map((topic) => prefix + topic));
    } catch (error) {
      this.#logger.warn(`Renewing ${this.#topics.size} Redis subscriptions failed: ${(error as Error).message}`);
    }
  }
}

/** The node a message is only for (a connection's, or a disconnect of one connection), else undefined. */
function targetNode(message: BrokerMessage): string | undefined {
  if (message.kind === 'connection') {
    return nodeIdOfConnection(message.connectionId);
  }
  if (message.kind === 'disconnect' && 'connectionId' in message.target) {
    return nodeIdOfConnection(message.target.connectionId);
  }
  return undefined;
}
