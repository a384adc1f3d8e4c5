import { Logger } from '@nestjs/common';
import type * as IORedis from 'ioredis';
import type { Cluster, Redis } from 'ioredis';
import type { BrokerHealth } from '../broker/broker.js';
import type { ResolvedRedisOptions } from './redis-options.js';
import { SharedStart } from '../backend/shared-start.js';
import { REDIS_SCRIPTS, type RedisScripts } from './redis-scripts.js';

/** A Redis command failed because Redis cannot be reached (or did not answer in `commandTimeoutMs`). */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/** What runs commands: one Redis, or a Redis Cluster (which routes each command to its slot's node). */
export type RedisCommands = (Redis | Cluster) & RedisScripts;

/** Errors that mean Redis (or the part of a cluster that serves the slot) cannot be reached now. */
const UNAVAILABLE =
  /timed out|Connection is closed|Stream isn't writeable|CLUSTERDOWN|Cluster isn't ready|None of startup nodes|Failed to refresh slots|ECONNREFUSED|ECONNRESET|TRYAGAIN/i;

/**
 * The connections that the broker and the stores made by one `redisRealtime()` share. One Redis: one connection for
 * commands and publishing, one for subscriptions (a subscribed connection can run nothing else). A Redis Cluster:
 * one ioredis `Cluster` for commands, which also holds one sharded subscriber per primary (`SSUBSCRIBE`), so a
 * node's pub/sub connections grow with the shards, not with channels. Started by the first component that needs
 * them, closed when the last one is done.
 *
 * Commands are never queued while Redis is away (`enableOfflineQueue: false`): they fail at once with
 * {@link RedisUnavailableError}, so nothing waits on an outage. ioredis reconnects by itself; subscriptions are
 * renewed by the broker on every `ready`.
 *
 * @internal
 */
export class RedisConnections {
  readonly #logger = new Logger('RealtimeRedis');
  readonly #shared = new SharedStart<void>(() => this.#stop());
  #command: RedisCommands | undefined;
  /** One Redis: the subscriber connection. A cluster: the cluster itself (its sharded subscribers). */
  #subscriber: Redis | Cluster | undefined;
  #lastError = 'not connected yet';
  #wasReady = false;
  /** Reconnects are on once started (from the first attempt when starting degraded is allowed). */
  #reconnect = false;
  readonly #onSubscriberReady = new Set<() => void>();

  constructor(readonly options: ResolvedRedisOptions) {}

  /** Whether this is a Redis Cluster (sharded pub/sub) rather than one Redis. */
  get clustered(): boolean {
    return this.options.cluster !== undefined;
  }

  /** Where Redis is, for messages (without credentials). */
  get address(): string {
    const { cluster } = this.options;
    if (cluster !== undefined) {
      return `the Redis Cluster at ${cluster.map((node) => `${node.host}:${node.port}`).join(', ')}`;
    }
    const url = new URL(this.options.url);
    return `${url.hostname || '127.0.0.1'}:${url.port || 6379}`;
  }

  get keyPrefix(): string {
    return this.options.keyPrefix;
  }

  /** The publish command of this deployment, as the scripts call it. */
  get publishCommand(): 'PUBLISH' | 'SPUBLISH' {
    return this.clustered ? 'SPUBLISH' : 'PUBLISH';
  }

  /** Connects (once, for every component that shares these connections) and counts the caller as a user. */
  acquire(): Promise<void> {
    return this.#shared.acquire(() => this.#start());
  }

  /** The caller is done; the last one closes the connections. */
  release(): Promise<void> {
    return this.#shared.release();
  }

  async #stop(): Promise<void> {
    const clients = new Set([this.#command, this.#subscriber]);
    this.#command = this.#subscriber = undefined;
    this.#onSubscriberReady.clear();
    await Promise.all(
      [...clients].map(async (client) => {
        await client?.quit().catch(() => client.disconnect());
      }),
    );
  }

  /** Whether subscriptions can be made now (they are renewed on `ready` otherwise). */
  subscriberReady(): boolean {
    return this.#subscriber?.status === 'ready';
  }

  /** Subscribes to pub/sub channels (sharded ones on a cluster, each on its slot's primary). */
  async subscribe(channels: readonly string[]): Promise<void> {
    const subscriber = this.#subscriber;
    if (subscriber === undefined) {
      return;
    }
    if (this.clustered) {
      await Promise.all(channels.map((channel) => subscriber.ssubscribe(channel)));
    } else {
      await subscriber.subscribe(...channels);
    }
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    const subscriber = this.#subscriber;
    if (subscriber === undefined) {
      return;
    }
    if (this.clustered) {
      await Promise.all(channels.map((channel) => subscriber.sunsubscribe(channel)));
    } else {
      await subscriber.unsubscribe(...channels);
    }
  }

  /** Publishes; resolves to how many subscriptions received it. */
  publish(channel: string, data: string, what: string): Promise<number> {
    return this.run(what, async (redis) =>
      Number(await (this.clustered ? redis.spublish(channel, data) : redis.publish(channel, data))),
    );
  }

  /** Calls `listener` whenever subscriptions can be made again (after every reconnect). */
  onSubscriberReady(listener: () => void): () => void {
    this.#onSubscriberReady.add(listener);
    return () => this.#onSubscriberReady.delete(listener);
  }

  /** Subscribes `listener` to pub/sub messages (raw channel and text). */
  onMessage(listener: (channel: string, message: string) => void): () => void {
    const subscriber = this.#subscriber;
    const event = this.clustered ? 'smessage' : 'message';
    subscriber?.on(event, listener);
    return () => subscriber?.off(event, listener);
  }

  health(): BrokerHealth {
    const up = this.#command?.status === 'ready' && this.#subscriber?.status === 'ready';
    return up ? { up } : { up, reason: `Redis at ${this.address} is unreachable (${this.#lastError}); reconnecting` };
  }

  /** Wraps a failed command: outages become {@link RedisUnavailableError}, other errors pass through. */
  async run<T>(what: string, command: (client: RedisCommands) => Promise<T>): Promise<T> {
    const client = this.#command;
    if (client === undefined || client.status !== 'ready') {
      throw this.#unavailable(what);
    }
    try {
      return await command(client);
    } catch (error) {
      if (client.status !== 'ready' || UNAVAILABLE.test(String(error))) {
        throw this.#unavailable(what, error);
      }
      throw error;
    }
  }

  #unavailable(what: string, cause?: unknown): RedisUnavailableError {
    const detail = cause instanceof Error ? cause.message : this.#lastError;
    return new RedisUnavailableError(`Redis at ${this.address} is unavailable (${detail}): ${what}`, { cause });
  }

  #retryDelay(attempt: number): number | null {
    return this.#reconnect ? Math.min(50 * 2 ** Math.min(attempt, 6), 2_000) : null;
  }

  async #start(): Promise<void> {
    const ioredis = await loadIORedis();
    const nodeOptions: IORedis.RedisOptions = {
      ...this.options.redis,
      lazyConnect: true,
      enableOfflineQueue: false,
      commandTimeout: this.options.commandTimeoutMs,
      maxRetriesPerRequest: 0,
      // ioredis waits this long for a socket to end on disconnect, even one already closed: keep shutdowns short.
      disconnectTimeout: 500,
      // Commands issued in one event-loop turn (a burst of publishes) leave in one write, in order.
      enableAutoPipelining: true,
    };
    const { cluster } = this.options;
    let command: RedisCommands;
    let subscriber: Redis | Cluster;
    if (cluster !== undefined) {
      const { retryStrategy: _ignored, ...redisOptions } = nodeOptions;
      command = new ioredis.Cluster([...cluster], {
        ...this.options.clusterOptions,
        lazyConnect: true,
        enableOfflineQueue: false,
        shardedSubscribers: true,
        enableAutoPipelining: true,
        clusterRetryStrategy: (attempt) => this.#retryDelay(attempt),
        redisOptions,
      }) as RedisCommands;
      subscriber = command;
    } else {
      const options = { ...nodeOptions, retryStrategy: (attempt: number) => this.#retryDelay(attempt) };
      command = new ioredis.Redis(this.options.url, options) as RedisCommands;
      subscriber = new ioredis.Redis(this.options.url, { ...options, autoResubscribe: false });
    }
    for (const [name, script] of Object.entries(REDIS_SCRIPTS)) {
      command.defineCommand(name, { numberOfKeys: 1, lua: script });
    }
    const clients = new Set<Redis | Cluster>([command, subscriber]);
    for (const client of clients) {
      client.on('error', (error: Error) => {
        this.#lastError = error.message || String(error);
      });
    }
    command.on('close', () => {
      if (this.#wasReady && this.#command === command) {
        this.#lastError = 'connection lost';
        this.#logger.warn(`Lost the connection to Redis at ${this.address}; reconnecting`);
      }
    });
    command.on('ready', () => {
      if (this.#wasReady) {
        this.#logger.log(`Reconnected to Redis at ${this.address}`);
      }
      this.#wasReady = true;
    });
    subscriber.on('ready', () => {
      for (const listener of this.#onSubscriberReady) {
        listener();
      }
    });
    this.#command = command;
    this.#subscriber = subscriber;
    this.#reconnect = this.options.startWhenUnavailable;
    try {
      await Promise.all([...clients].map((client) => client.connect()));
      this.#reconnect = true;
    } catch (error) {
      if (this.options.startWhenUnavailable) {
        this.#logger.warn(
          `Redis at ${this.address} is unavailable (${this.#lastError}): starting degraded, connecting in the background`,
        );
        return;
      }
      this.#command = this.#subscriber = undefined;
      // Without retries, a client that failed ends by itself; one that connected is closed.
      for (const client of clients) {
        if (client.status === 'ready') {
          client.disconnect();
        } else if (client.status !== 'end') {
          client.once('ready', () => client.disconnect());
        }
      }
      throw new RedisUnavailableError(
        `Cannot start: Redis at ${this.address} is unavailable (${this.#lastError}). Start Redis, fix the address, ` +
          'or set the redisRealtime option "startWhenUnavailable" to start degraded',
        { cause: error },
      );
    }
  }
}

async function loadIORedis(): Promise<typeof IORedis> {
  try {
    return await import('ioredis');
  } catch (error) {
    throw new Error('nestjs-realtime/redis needs the ioredis package: npm install ioredis', { cause: error });
  }
}
