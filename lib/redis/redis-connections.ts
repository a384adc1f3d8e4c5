import { Logger } from '@nestjs/common';
import type * as IORedis from 'ioredis';
import type { Redis } from 'ioredis';
import type { BrokerHealth } from '../broker/broker.js';
import type { ResolvedRedisOptions } from './redis-options.js';
import { REDIS_SCRIPTS, type RedisScripts } from './redis-scripts.js';

/** A Redis command failed because Redis cannot be reached (or did not answer in `commandTimeoutMs`). */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/**
 * The two Redis connections that the broker and the stores made by one `redisRealtime()` share: one for commands
 * and publishing, one for subscriptions (a subscribed connection can run nothing else). Started by the first
 * component that needs it, closed when the last one is done.
 *
 * Commands are never queued while Redis is away (`enableOfflineQueue: false`): they fail at once with
 * {@link RedisUnavailableError}, so nothing waits on an outage. ioredis reconnects by itself; subscriptions are
 * renewed by the broker on every `ready`.
 *
 * @internal
 */
export class RedisConnections {
  readonly #logger = new Logger('RealtimeRedis');
  #started: Promise<void> | undefined;
  #users = 0;
  #command: (Redis & RedisScripts) | undefined;
  #subscriber: Redis | undefined;
  #lastError = 'not connected yet';
  #wasReady = false;
  /** Reconnects are on once started (from the first attempt when starting degraded is allowed). */
  #reconnect = false;
  readonly #onSubscriberReady = new Set<() => void>();

  constructor(readonly options: ResolvedRedisOptions) {}

  /** Where Redis is, for messages (without credentials). */
  get address(): string {
    const url = new URL(this.options.url);
    return `${url.hostname || '127.0.0.1'}:${url.port || 6379}`;
  }

  get keyPrefix(): string {
    return this.options.keyPrefix;
  }

  /** Connects (once, for every component that shares these connections) and counts the caller as a user. */
  async acquire(): Promise<void> {
    this.#users++;
    this.#started ??= this.#start();
    try {
      await this.#started;
    } catch (error) {
      this.#users--;
      this.#started = undefined;
      throw error;
    }
  }

  /** The caller is done; the last one closes the connections. */
  async release(): Promise<void> {
    if (this.#users === 0 || --this.#users > 0) {
      return;
    }
    const clients = [this.#command, this.#subscriber];
    this.#command = this.#subscriber = undefined;
    this.#started = undefined;
    this.#onSubscriberReady.clear();
    await Promise.all(
      clients.map(async (client) => {
        await client?.quit().catch(() => client.disconnect());
      }),
    );
  }

  /** The subscriber connection, or undefined while it is not ready (subscriptions wait for `ready`). */
  subscriber(): Redis | undefined {
    return this.#subscriber?.status === 'ready' ? this.#subscriber : undefined;
  }

  /** Calls `listener` whenever the subscriber connection becomes ready (after every reconnect). */
  onSubscriberReady(listener: () => void): () => void {
    this.#onSubscriberReady.add(listener);
    return () => this.#onSubscriberReady.delete(listener);
  }

  /** Subscribes `listener` to pub/sub messages (raw channel and text). */
  onMessage(listener: (channel: string, message: string) => void): () => void {
    const subscriber = this.#subscriber;
    subscriber?.on('message', listener);
    return () => subscriber?.off('message', listener);
  }

  health(): BrokerHealth {
    const up = this.#command?.status === 'ready' && this.#subscriber?.status === 'ready';
    return up ? { up } : { up, reason: `Redis at ${this.address} is unreachable (${this.#lastError}); reconnecting` };
  }

  /** Wraps a failed command: outages become {@link RedisUnavailableError}, other errors pass through. */
  async run<T>(what: string, command: (client: Redis & RedisScripts) => Promise<T>): Promise<T> {
    const client = this.#command;
    if (client === undefined || client.status !== 'ready') {
      throw this.#unavailable(what);
    }
    try {
      return await command(client);
    } catch (error) {
      if (client.status !== 'ready' || /timed out|Connection is closed|Stream isn't writeable/i.test(String(error))) {
        throw this.#unavailable(what, error);
      }
      throw error;
    }
  }

  #unavailable(what: string, cause?: unknown): RedisUnavailableError {
    const detail = cause instanceof Error ? cause.message : this.#lastError;
    return new RedisUnavailableError(`Redis at ${this.address} is unavailable (${detail}): ${what}`, { cause });
  }

  async #start(): Promise<void> {
    const { Redis: RedisClient } = await loadIORedis();
    const options: IORedis.RedisOptions = {
      ...this.options.redis,
      lazyConnect: true,
      enableOfflineQueue: false,
      commandTimeout: this.options.commandTimeoutMs,
      maxRetriesPerRequest: 0,
      // ioredis waits this long for a socket to end on disconnect, even one already closed: keep shutdowns short.
      disconnectTimeout: 500,
      retryStrategy: (attempt) => (this.#reconnect ? Math.min(50 * 2 ** Math.min(attempt, 6), 2_000) : null),
    };
    const command = new RedisClient(this.options.url, options) as Redis & RedisScripts;
    const subscriber = new RedisClient(this.options.url, { ...options, autoResubscribe: false });
    for (const [name, script] of Object.entries(REDIS_SCRIPTS)) {
      command.defineCommand(name, { numberOfKeys: 0, lua: script });
    }
    for (const client of [command, subscriber]) {
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
      await Promise.all([command.connect(), subscriber.connect()]);
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
      for (const client of [command, subscriber]) {
        if (client.status === 'ready') {
          client.disconnect();
        } else if (client.status !== 'end') {
          client.once('ready', () => client.disconnect());
        }
      }
      throw new RedisUnavailableError(
        `Cannot start: Redis at ${this.address} is unavailable (${this.#lastError}). Start Redis, fix the url, ` +
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
