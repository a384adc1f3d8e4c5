import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BackendContext } from '../backend/backend-context.js';
import { ALL_TOPIC, Broker, nodeTopic } from '../broker/broker.js';
import { ConnectionCounter } from '../connection/connection-counter.js';
import { LocalDelivery } from '../connection/local-delivery.js';
import { FailureCode, RealtimeBrokerError } from '../errors/realtime-failure.js';
import { HistoryStore } from '../history/history-store.js';
import { PresenceStore } from '../presence/presence-store.js';
import { PresenceTracker } from '../presence/presence-tracker.js';
import { RateLimitStore } from '../protection/rate-limit-store.js';
import { NODE_ID } from '../realtime.constants.js';
import { LifecycleHooks } from '../routing/lifecycle-hooks.js';

/** Every backend has this lifecycle (see `BackendContext`). */
interface Backend {
  start(context: BackendContext): Promise<void>;
  close(): Promise<void>;
}

/**
 * This instance as a member of the cluster: starts every backend with one `BackendContext` (broker first, so the
 * stores can announce through it), listens to the node topics (`all`, `node:<id>`), follows local interest in
 * user topics, and closes the backends in reverse order on shutdown (the presence store before the broker: taking
 * this node's members out announces their leaves through it).
 */
@Injectable()
export class RealtimeNode {
  readonly #logger = new Logger('RealtimeModule');
  #started: Backend[] = [];

  constructor(
    @Inject(NODE_ID) readonly id: string,
    private readonly broker: Broker,
    private readonly presenceStore: PresenceStore,
    private readonly historyStore: HistoryStore,
    private readonly rateLimitStore: RateLimitStore,
    private readonly connectionCounter: ConnectionCounter,
    private readonly delivery: LocalDelivery,
    private readonly presence: PresenceTracker,
    private readonly hooks: LifecycleHooks,
  ) {}

  /** Starts the backends; when one fails, those already started are closed and the error is thrown. */
  async start(): Promise<void> {
    const context: BackendContext = {
      nodeId: this.id,
      deliver: this.delivery.deliver,
      presenceExpired: this.presence.expired,
    };
    const backends: Backend[] = [
      this.broker,
      this.presenceStore,
      this.historyStore,
      this.rateLimitStore,
      this.connectionCounter,
    ];
    try {
      for (const backend of backends) {
        await backend.start(context);
        this.#started.push(backend);
      }
      await this.broker.subscribe(ALL_TOPIC);
      await this.broker.subscribe(nodeTopic(this.id));
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /**
   * Sends the presence diffs still waiting, then closes the started backends, last started first; a failing one is
   * logged and the others still close.
   */
  async close(): Promise<void> {
    if (this.#started.includes(this.broker)) {
      await this.presence.flush();
    }
    for (const backend of this.#started.splice(0).reverse()) {
      try {
        await backend.close();
      } catch (error) {
        this.#logger.error(`Closing ${backend.constructor.name} failed`, (error as Error)?.stack);
      }
    }
  }

  /** This node has local interest in `topic` (a failure is logged and reported, never thrown). */
  watch(topic: string): void {
    this.broker.subscribe(topic).catch((error: unknown) => this.#failed(`Broker subscription to ${topic}`, error));
  }

  /** This node no longer has local interest in `topic`. */
  unwatch(topic: string): void {
    this.broker
      .unsubscribe(topic)
      .catch((error: unknown) => this.#failed(`Broker unsubscription from ${topic}`, error));
  }

  #failed(what: string, error: unknown): void {
    this.#logger.error(`${what} failed`, (error as Error)?.stack);
    this.hooks.report(() => new RealtimeBrokerError(FailureCode.BROKER_FAILED, `${what} failed`, { cause: error }));
  }
}
