import type { AddressInfo } from 'node:net';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Broker, type BrokerHealth } from '../broker/broker.js';
import { ChannelCatalog } from '../channels/channel-catalog.js';
import { ChannelJoiner } from '../channels/channel-joiner.js';
import { ChannelMembership } from '../channels/channel-membership.js';
import { ConnectionRegistry } from '../connection/connection-registry.js';
import { HistoryStore } from '../history/history-store.js';
import { RealtimeStats, type RealtimeStatsSnapshot } from '../operations/realtime-stats.js';
import type { RealtimeConnection } from '../interfaces/realtime-connection.interface.js';
import type { PresenceMember } from '../presence/presence-store.js';
import { PresenceTracker } from '../presence/presence-tracker.js';
import type { RealtimeEnvelope } from '../protocol/envelope.js';
import { CloseCode, isSendableCloseCode } from '../protocol/error-codes.js';
import { isValidChannelName, isValidName } from '../protocol/limits.js';
import { RESOLVED_OPTIONS } from '../realtime.constants.js';
import type { ResolvedRealtimeOptions } from '../realtime.options.js';
import { RealtimeEndpoint } from '../server/realtime-endpoint.js';
import { keepAndPublish } from '../history/keep-and-publish.js';
import { ConnectionCounter } from '../connection/connection-counter.js';
import { FailureCode, RealtimeBrokerError } from '../errors/realtime-failure.js';
import { LifecycleHooks } from '../routing/lifecycle-hooks.js';
import { EnvelopeFactory, type RealtimeMessage } from './envelope-factory.js';
import { UserSender } from './user-sender.js';
import { type BatchOptions, MessageBatcher } from './message-batcher.js';

/** The type of the frames `publishBatched` sends. */
export const BATCH_TYPE = 'batch';

/** How a message may be delivered: dropped for a connection that is behind, or never compressed. */
export interface DeliveryOptions {
  /**
   * May be dropped for a connection that is behind (more than `backpressure.volatileBufferedBytes` queued), instead
   * of queued: for what is stale a second later (typing indicators, cursor positions). Never kept in history.
   */
  readonly volatile?: boolean;
  /**
   * `false`: never compressed with permessage-deflate, for data that is compressed already (images, archives), where
   * deflate costs CPU and saves nothing. Default: compressed when the connection negotiated it and the message is
   * past `perMessageDeflate.threshold`.
   */
  readonly compress?: boolean;
}

/** The options of every send of `RealtimeService`: delivery, and the connections left out. */
export interface SendOptions extends DeliveryOptions {
  /** Connection ids that must not receive the message (the sender's own connection, typically). */
  readonly except?: string | readonly string[];
}

/** What a send resolves to: the envelope as sent, and how many of this node's connections it was written to. */
export interface SendResult<T = unknown> {
  /** The completed envelope: `id`, `timestamp`, `sender`, `channel`, and `offset` in a history channel. */
  readonly envelope: RealtimeEnvelope<T>;
  /**
   * Connections of this node it was written to (all of them with the embedded broker). Other nodes deliver on their
   * own and are not counted; on Redis, a history channel's messages reach this node through Redis too, after the
   * send resolved, so they count 0 here.
   */
  readonly delivered: number;
}

/** What `sendToUser` resolves to. */
export interface UserSendResult<T = unknown> extends SendResult<T> {
  /** Whether the user had a connection on some node (cluster-wide on Redis). */
  readonly online: boolean;
}

/** `RealtimeService.health()`: up while the endpoint accepts connections and the broker can deliver. */
export interface RealtimeHealth {
  readonly up: boolean;
  readonly accepting: boolean;
  readonly connections: number;
  readonly broker: BrokerHealth;
}

/** Who `RealtimeService.disconnect` closes: one connection, or every connection of a user, on every node. */
export type DisconnectTarget = { readonly connectionId: string } | { readonly userId: string };

/** The close code and reason `RealtimeService.disconnect` sends. */
export interface DisconnectOptions {
  /** WebSocket close code. Default 1008 (policy violation). */
  readonly code?: number;
  readonly reason?: string;
}

/**
 * The realtime API for server code: send, broadcast, subscribe on behalf of connections, disconnect, and query
 * connections. Sends are completed (`id`, `timestamp`, `sender`), encoded once, and published through the
 * `Broker`, so they reach every node; they resolve to the envelope that was sent.
 *
 * Connection queries (`getConnection`, ...) return this node's connections; `countConnections` and `getPresence`
 * ask the presence store, so with `nestjs-realtime/redis` they count the whole cluster.
 */
@Injectable()
export class RealtimeService implements OnModuleDestroy {
  readonly #logger = new Logger('RealtimeModule');
  readonly #batcher = new MessageBatcher((channel, batch) => {
    this.broadcastToChannel(channel, { type: BATCH_TYPE, payload: batch }).catch((error: unknown) => {
      const what = `Sending a batch of ${batch.messages.length} to "${channel}" failed`;
      this.#logger.error(what, (error as Error)?.stack);
      this.hooks.report(() => new RealtimeBrokerError(FailureCode.BROKER_FAILED, what, { cause: error }));
    });
  });

  constructor(
    private readonly broker: Broker,
    private readonly registry: ConnectionRegistry,
    private readonly membership: ChannelMembership,
    private readonly joiner: ChannelJoiner,
    private readonly catalog: ChannelCatalog,
    private readonly presence: PresenceTracker,
    private readonly history: HistoryStore,
    private readonly counters: RealtimeStats,
    private readonly envelopes: EnvelopeFactory,
    private readonly server: RealtimeEndpoint,
    private readonly counter: ConnectionCounter,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedRealtimeOptions,
    private readonly hooks: LifecycleHooks,
    private readonly users: UserSender,
  ) {}

  /** Where the WebSocket endpoint listens (its own port's address with `port`, else the app's); null before start. */
  getAddress(): AddressInfo | null {
    return this.server.address();
  }

  /** Sends to one connection, on whichever node holds it. */
  async sendToConnection<T>(
    connectionId: string,
    message: RealtimeMessage<T>,
    options?: DeliveryOptions,
  ): Promise<SendResult<T>> {
    requireString('connectionId', connectionId);
    const { envelope, frame } = this.envelopes.complete(message);
    const { type } = envelope;
    const report = await this.broker.publish({
      kind: 'connection',
      connectionId,
      type,
      frame,
      volatile: options?.volatile,
      compress: noCompression(options),
    });
    return { envelope, delivered: report.delivered };
  }

  /**
   * Sends to every connection (every device) of a user, on every node. Resolves with `online`: whether the user had
   * a connection anywhere (on Redis, whether some instance holds one), so an app can fall back to push or e-mail.
   */
  async sendToUser<T>(userId: string, message: RealtimeMessage<T>, options?: SendOptions): Promise<UserSendResult<T>> {
    requireString('userId', userId);
    const { envelope, frame } = this.envelopes.complete(message);
    const delivery = await this.users.send(userId, envelope, frame, {
      except: exceptList(options),
      volatile: options?.volatile,
      compress: noCompression(options),
    });
    return { envelope, ...delivery };
  }

  /**
   * Sends to every subscriber of a channel; the envelope's `channel` is set to it. In a channel with `history` the
   * message (unless volatile) is kept first and gets the channel's next `offset`.
   */
  async broadcastToChannel<T>(
    channel: string,
    message: RealtimeMessage<T>,
    options?: SendOptions,
  ): Promise<SendResult<T>> {
    this.#requireChannel(channel);
    const { envelope, frame } = this.envelopes.complete(message, channel);
    const except = exceptList(options);
    const { type } = envelope;
    const volatile = options?.volatile === true;
    const compress = noCompression(options);
    const history = volatile ? undefined : this.catalog.match(channel)?.definition.options.history;
    if (history === undefined) {
      const report = await this.broker.publish({ kind: 'channel', channel, type, frame, except, volatile, compress });
      return { envelope, delivered: report.delivered };
    }
    const delivery = { type, except, compress };
    const kept = await keepAndPublish(this.history, this.broker, channel, frame, history, delivery);
    return { envelope: { ...envelope, offset: kept.offset }, delivered: kept.delivered };
  }

  /**
   * Collects messages per (channel, key) for `windowMs` from the first one, then sends them as one frame
   * `{ type: 'batch', channel, payload: { name, messages } }` to the channel's subscribers: fewer frames for bursts
   * (reactions, presence ticks). With `coalesce: 'latest'` only the last message per key is sent (live cursors).
   * Throws at once for a bad channel, message or option; pending batches are sent when the app shuts down.
   */
  publishBatched<T>(channel: string, key: string, message: RealtimeMessage<T>, options: BatchOptions): void {
    this.#requireChannel(channel);
    requireString('key', key);
    this.envelopes.check(message);
    const { windowMs, name, coalesce } = options ?? ({} as Partial<BatchOptions>);
    if (typeof windowMs !== 'number' || !Number.isInteger(windowMs) || windowMs < 1 || windowMs > 60_000) {
      throw new TypeError(`Invalid batch windowMs ${JSON.stringify(windowMs)}: expected an integer from 1 to 60000`);
    }
    if (name !== undefined && (typeof name !== 'string' || !isValidName(name))) {
      throw new TypeError(`Invalid batch name ${JSON.stringify(name)}: expected a message type name`);
    }
    if (coalesce !== undefined && coalesce !== 'all' && coalesce !== 'latest') {
      throw new TypeError(`Invalid batch coalesce ${JSON.stringify(coalesce)}: expected "all" or "latest"`);
    }
    this.#batcher.add(channel, key, message, options);
  }

  /** Drops a pending batch without sending it; returns whether there was one. */
  cancelBatch(channel: string, key: string): boolean {
    return this.#batcher.cancel(channel, key);
  }

  /** Sends the pending batches while connections are still open. */
  onModuleDestroy(): void {
    this.#batcher.flushAll();
  }

  /** Sends to every connection, on every node. */
  async broadcastAll<T>(message: RealtimeMessage<T>, options?: SendOptions): Promise<SendResult<T>> {
    const { envelope, frame } = this.envelopes.complete(message);
    const { type } = envelope;
    const report = await this.broker.publish({
      kind: 'all',
      type,
      frame,
      except: exceptList(options),
      volatile: options?.volatile,
      compress: noCompression(options),
    });
    return { envelope, delivered: report.delivered };
  }

  /**
   * Subscribes a connection of this node to any channel, declared or not (no join check runs: server code decides).
   * The client gets a `subscribed` frame, as for its own `subscribe` (members, history position, replay on join).
   * Resolves to false when the connection is not here or already subscribed.
   */
  async subscribe(connectionId: string, channel: string): Promise<boolean> {
    this.#requireChannel(channel);
    const connection = this.registry.get(connectionId);
    return connection ? this.joiner.join(connection, channel, this.catalog.bind(channel), {}) : false;
  }

  /** Removes a connection of this node from a channel. Resolves to false when it was not subscribed. */
  async unsubscribe(connectionId: string, channel: string): Promise<boolean> {
    this.#requireChannel(channel);
    const connection = this.registry.get(connectionId);
    return connection ? this.membership.leave(connection, channel) : false;
  }

  /** Closes one connection, or every connection of a user, on every node. */
  async disconnect(target: DisconnectTarget, options: DisconnectOptions = {}): Promise<void> {
    const code = options.code ?? CloseCode.POLICY_VIOLATION;
    if (!isSendableCloseCode(code)) {
      throw new TypeError(`Invalid close code ${String(code)}: use 1000, 1001-1014 (not 1004-1006) or 3000-4999`);
    }
    const reason = options.reason ?? 'Disconnected by the server';
    if (Buffer.byteLength(reason) > 123) {
      throw new TypeError('A close reason is at most 123 bytes');
    }
    if ('userId' in target) {
      requireString('userId', target.userId);
    } else {
      requireString('connectionId', target.connectionId);
    }
    await this.broker.publish({ kind: 'disconnect', target, code, reason });
  }

  /** The members of a presence channel (one per user, on every node). Throws for a channel without presence. */
  async getPresence(channel: string): Promise<PresenceMember[]> {
    this.#requirePresence(channel);
    return this.presence.members(channel);
  }

  /**
   * Replaces a member's public info in a presence channel while the user stays joined (a status: online, away,
   * busy...). Pass the whole info: `{ ...client.info, status: 'away' }`. Every subscriber of the channel, on every
   * node, gets one `system:presence {userId, info}` (once per user, however many devices), and `getPresence`,
   * `subscribed` and `presence` answers show it from then on. Resolves to false, sending nothing, when the user is
   * not a member. Throws for a channel without presence or info that is not a plain JSON object within
   * `maxPresenceInfoBytes`.
   */
  async setPresenceInfo(channel: string, userId: string, info: Readonly<Record<string, unknown>>): Promise<boolean> {
    this.#requirePresence(channel);
    requireString('userId', userId);
    return this.presence.update(channel, { userId, info });
  }

  /**
   * How many connections are open on every node: all of them, or those of one user (each device counts). Exact with
   * the embedded store; on Redis it follows each node's counts as they reach Redis.
   */
  async countConnections(userId?: string): Promise<number> {
    if (userId !== undefined) {
      requireString('userId', userId);
    }
    return this.counter.count(userId);
  }

  /**
   * Whether this node serves: it accepts connections (started, not shutting down) and its broker can deliver. What
   * `nestjs-realtime/terminus`'s health indicator reports.
   */
  health(): RealtimeHealth {
    const broker = this.broker.health();
    const accepting = this.server.accepting;
    return { up: accepting && broker.up, accepting, connections: this.registry.size, broker };
  }

  /** This node's counters and state: connections, channels, frames in and out, errors, drops, rate-limit hits. */
  stats(): RealtimeStatsSnapshot {
    return this.counters.snapshot(this.registry.size, this.registry.channelCount());
  }

  /**
   * Sets metadata keys of a connection of this node (a key set to `undefined` is removed); its guards and handlers
   * see the new values from its next frame on, and `getConnection` returns them. Returns the new metadata, or
   * undefined when the connection is not on this node. Throws, changing nothing, past `maxMetadataEntries` or
   * `maxMetadataBytes` (as JSON) or for a value that is not JSON. In a handler, `client.setMetadata(patch)` is the
   * same.
   */
  setMetadata(
    connectionId: string,
    patch: Readonly<Record<string, unknown>>,
  ): Readonly<Record<string, unknown>> | undefined {
    requireString('connectionId', connectionId);
    return this.registry.get(connectionId)?.setMetadata(patch);
  }

  /** A connection of this node, by id; undefined when it is elsewhere or gone. */
  getConnection(connectionId: string): RealtimeConnection | undefined {
    return this.registry.get(connectionId)?.view;
  }

  /** Every connection of this node. */
  getConnections(): RealtimeConnection[] {
    return [...this.registry.all()].map((connection) => connection.view);
  }

  /** The connections of a user on this node. */
  getUserConnections(userId: string): RealtimeConnection[] {
    return [...this.registry.ofUser(userId)].map((connection) => connection.view);
  }

  /** The connections of this node subscribed to a channel. */
  getChannelConnections(channel: string): RealtimeConnection[] {
    return [...this.registry.inChannel(channel)].map((connection) => connection.view);
  }

  #requirePresence(channel: string): void {
    this.#requireChannel(channel);
    if (!this.catalog.match(channel)?.definition.options.presence) {
      throw new TypeError(
        `Channel "${channel}" has no presence: declare it with @Channel(pattern, { presence: true })`,
      );
    }
  }

  #requireChannel(channel: string): void {
    if (typeof channel !== 'string' || !isValidChannelName(channel, this.options.maxChannelNameLength)) {
      throw new TypeError(
        `Invalid channel name ${JSON.stringify(channel)}: expected 1 to ${this.options.maxChannelNameLength} ` +
          `letters, digits or "_ . : @ = + / -" characters`,
      );
    }
  }
}

function requireString(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`Invalid ${name} ${JSON.stringify(value)}: expected a non-empty string`);
  }
}

/** The broker's `compress` field: `false` only when the send opted out (so it is left out of the wire otherwise). */
function noCompression(options: DeliveryOptions | undefined): false | undefined {
  return options?.compress === false ? false : undefined;
}

function exceptList(options: SendOptions | undefined): readonly string[] | undefined {
  const except = options?.except;
  return typeof except === 'string' ? [except] : except;
}
