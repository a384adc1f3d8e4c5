import { randomBytes } from 'node:crypto';
import { type Broker, channelTopic } from '../broker/broker.js';
import {
  type AtomicAppendPublish,
  type HistoryEntry,
  type HistoryLimits,
  type HistoryPage,
  type HistoryPosition,
  type HistoryQuery,
  HistoryStore,
} from '../history/history-store.js';
import { historyHeader } from '../broker/broker-wire.js';
import { RedisBroker } from './redis-broker.js';
import type { RedisConnections } from './redis-connections.js';
import { topicKey } from './redis-keys.js';

/**
 * Channel history on Redis, shared by every instance: one offset counter and epoch per channel, and a stream of the
 * kept frames, so a client that reconnects to another instance recovers exactly what it missed. With the
 * `RedisBroker` from the same `redisRealtime()`, a message is kept and published in one atomic step, so every node
 * receives a channel's messages in offset order. The epoch changes when Redis lost the channel (a restart without
 * persistence, or a `ttlMs` channel left idle that long).
 *
 * Made by `redisRealtime()`.
 */
export class RedisHistoryStore extends HistoryStore {
  #started = false;
  #atomic: AtomicAppendPublish | undefined;

  /** @internal */
  constructor(private readonly connections: RedisConnections) {
    super();
  }

  async append(channel: string, frame: string, limits: HistoryLimits): Promise<HistoryEntry & HistoryPosition> {
    return this.#append(channel, frame, limits, []);
  }

  override async start(): Promise<void> {
    await this.connections.acquire();
    this.#started = true;
  }

  /** With the `RedisBroker` of the same `redisRealtime()`: the append script publishes too. */
  override atomicPublisher(broker: Broker): AtomicAppendPublish | undefined {
    if (!(broker instanceof RedisBroker) || broker.connections !== this.connections) {
      return undefined;
    }
    return (this.#atomic ??= {
      appendAndPublish: async (channel, frame, limits, delivery) => {
        const route = [this.connections.publishCommand, historyHeader(channel, delivery)];
        // Every node, this one included, gets it through Redis, after the publish resolved.
        return { ...(await this.#append(channel, frame, limits, route)), delivered: 0 };
      },
    });
  }

  async read(channel: string, query: HistoryQuery, limits: HistoryLimits): Promise<HistoryPage> {
    const key = this.#key(channel);
    const reply = await this.connections.run('reading history', (redis) =>
      redis.realtimeHistoryRead(key, query.since ?? '', query.limit, limits.ttlMs ?? '', newEpoch()),
    );
    const entries: HistoryEntry[] = [];
    for (let i = 3; i + 1 < reply.length; i += 2) {
      entries.push({ offset: Number(reply[i]), frame: String(reply[i + 1]) });
    }
    return { epoch: String(reply[0]), offset: Number(reply[1]), complete: reply[2] === 1, entries };
  }

  async close(): Promise<void> {
    if (this.#started) {
      this.#started = false;
      await this.connections.release();
    }
  }

  async #append(
    channel: string,
    frame: string,
    limits: HistoryLimits,
    route: string[],
  ): Promise<HistoryEntry & HistoryPosition> {
    const key = this.#key(channel);
    const what = route.length > 0 ? 'the message was neither kept nor delivered' : 'the message was not kept';
    const [epoch, offset, kept] = await this.connections.run(what, (redis) =>
      redis.realtimeHistoryAppend(key, frame, limits.size, limits.ttlMs ?? '', newEpoch(), ...route),
    );
    return { epoch, offset: Number(offset), frame: kept };
  }

  /** The channel's base key: its pub/sub channel too, so the append script publishes on the same slot. */
  #key(channel: string): string {
    return topicKey(this.connections.keyPrefix, channelTopic(channel));
  }
}

function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}
