import { Logger } from '@nestjs/common';
import type { BackendContext } from '../backend/backend-context.js';
import {
  Broker,
  type BrokerListener,
  type BrokerMessage,
  type PublishReport,
  targetNodeOf,
  topicOf,
} from './broker.js';
import { decodeBrokerMessage, encodeBrokerMessage } from './broker-wire.js';

/**
 * The protocol every broker for many instances shares, so that a backend implements only its transport: raw
 * publish of a text on a topic, raw subscribe and unsubscribe, and calling {@link receive} with what arrives.
 *
 * What this class owns:
 * - local first: a message is handed to this node's connections at once, without the round trip, and the copy that
 *   comes back through the transport is skipped (the wire header names the node that delivered it). A message for
 *   one connection of this node never leaves it. A message for a channel with history is the exception: it
 *   travels through the transport to every node, this one included, so all of them see a channel in offset order.
 * - pipelining: a message this node delivered itself (channel, all, disconnect) resolves once it is handed to the
 *   transport, not after the transport's answer, while the transport is up; with the transport down it rejects.
 * - the wire format (`broker-wire.ts`): a JSON header, a newline, then the frame exactly as encoded once.
 * - interest: the topics this node subscribed, renewed by {@link renew} after the transport reconnects.
 */
export abstract class ClusterBroker extends Broker {
  protected readonly logger = new Logger('RealtimeBroker');
  readonly #topics = new Set<string>();
  /** Topics whose last pipelined publish failed: their publishes wait for the answer until one succeeds. */
  readonly #failing = new Set<string>();
  #nodeId = '';
  #deliver: BrokerListener | undefined;

  /** This node's id (set by `start`). */
  protected get nodeId(): string {
    return this.#nodeId;
  }

  /** Whether `start` ran and `close` did not. */
  protected get started(): boolean {
    return this.#deliver !== undefined;
  }

  async start(context: BackendContext): Promise<void> {
    await this.open(context);
    this.#nodeId = context.nodeId;
    this.#deliver = context.deliver;
    await this.renew();
  }

  async publish(message: BrokerMessage): Promise<PublishReport> {
    const deliver = this.#deliver;
    if (deliver === undefined) {
      throw new Error(`${this.constructor.name} is not started (the realtime server is not running)`);
    }
    const only = targetNodeOf(message);
    if (only === this.#nodeId) {
      return { delivered: deliver(message), forwarded: 0 };
    }
    // A channel's kept messages must reach every node in offset order: they all go through the transport.
    const localFirst = only === undefined && !(message.kind === 'channel' && message.offset !== undefined);
    const delivered = localFirst ? deliver(message) : 0;
    const data = encodeBrokerMessage(message, localFirst ? this.#nodeId : undefined);
    const what = localFirst
      ? "the message was delivered to this instance's connections only"
      : 'the message was not delivered';
    const topic = topicOf(message);
    const sending = this.transmit(topic, data, what);
    if (localFirst && message.kind !== 'user' && !this.#failing.has(topic) && this.health().up) {
      // Pipelined: the message is on the transport (in order, for its topic) and this instance delivered it; the
      // caller goes on without the round trip, so a publisher's next frame does not wait for it, and bursts reach
      // local sockets in one write. A failure after the hand-off is logged, and the topic's next publishes wait for
      // the answer (and reject) until one succeeds.
      sending.catch((error: unknown) => this.#lateFailure(topic, what, error));
      return { delivered, forwarded: -1 };
    }
    const forwarded = await sending;
    this.#failing.delete(topic);
    return { delivered, forwarded };
  }

  async subscribe(topic: string): Promise<void> {
    if (this.#topics.has(topic)) {
      return;
    }
    this.#topics.add(topic);
    if (this.started) {
      await this.listen([topic]);
    }
  }

  async unsubscribe(topic: string): Promise<void> {
    if (!this.#topics.delete(topic) || !this.started) {
      return;
    }
    await this.unlisten([topic]);
  }

  async close(): Promise<void> {
    if (this.#deliver === undefined) {
      return;
    }
    this.#deliver = undefined;
    this.#topics.clear();
    await this.shut();
  }

  #lateFailure(topic: string, what: string, error: unknown): void {
    this.#failing.add(topic);
    this.logger.warn(`A publish failed after it was handed to the transport (${what}): ${(error as Error)?.message}`);
  }

  /** Backends call this with every message their transport receives on this node's topics. */
  protected receive(data: string): void {
    const decoded = decodeBrokerMessage(data);
    if (decoded === undefined) {
      this.logger.warn(`Ignored a message that is not a realtime message (${data.length} characters)`);
      return;
    }
    if (decoded.from !== this.#nodeId) {
      this.#deliver?.(decoded.message);
    }
  }

  /** Backends call this when their transport is back after a reconnect: every topic of interest is listened again. */
  protected async renew(): Promise<void> {
    if (this.#topics.size === 0) {
      return;
    }
    try {
      await this.listen([...this.#topics]);
    } catch (error) {
      this.logger.warn(`Renewing ${this.#topics.size} subscriptions failed: ${(error as Error).message}`);
    }
  }

  /** Opens the transport (before anything is listened to). */
  protected abstract open(context: BackendContext): Promise<void>;

  /**
   * Publishes `data` on `topic` to every subscribed node; resolves to how many received it (-1 when the transport
   * cannot tell). Rejects when it cannot be handed over, with `what` saying what that means for the message.
   */
  protected abstract transmit(topic: string, data: string, what: string): Promise<number>;

  /**
   * Subscribes to topics. While the transport is down this may resolve without doing anything (the backend then
   * calls {@link renew} when it is back); a live transport that refuses rejects.
   */
  protected abstract listen(topics: readonly string[]): Promise<void>;

  /** Unsubscribes from topics (the same rule while the transport is down). */
  protected abstract unlisten(topics: readonly string[]): Promise<void>;

  /** Closes the transport. */
  protected abstract shut(): Promise<void>;
}
