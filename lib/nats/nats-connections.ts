import { Logger } from '@nestjs/common';
import type * as JetStreamModule from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type * as KvModule from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type * as TransportModule from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { BrokerHealth } from '../broker/broker.js';
import { SharedStart } from '../backend/shared-start.js';
import { PROTOCOL_LIMITS } from '../protocol/limits.js';
import { within } from '../util/within.js';
import { NatsNames } from './nats-names.js';
import type { ResolvedNatsOptions } from './nats-options.js';

/** A NATS operation failed because NATS cannot be reached (or did not answer in `requestTimeoutMs`). */
export class NatsUnavailableError extends Error {
  override readonly name = 'NatsUnavailableError';
}

/** Errors that mean NATS (or JetStream) cannot answer now. */
const UNAVAILABLE =
  /TIMEOUT|timed out|connection closed|CONNECTION_CLOSED|CONNECTION_DRAINING|CONNECTION_REFUSED|no responders|503/i;

/** What the NATS backends share once connected. */
export interface NatsHandles {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly presence: KV;
  readonly nodes: KV;
  readonly epochs: KV;
  /** Shared rate-limit buckets (`r.<key>`); entries expire a day after their last write. */
  readonly rateLimits: KV;
  readonly headers: typeof TransportModule.headers;
}

/** How long a shutdown waits for the NATS connection to drain before it closes it. */
const DRAIN_TIMEOUT_MS = 2000;

/**
 * The one NATS connection that the broker and the stores made by one `natsRealtime()` share, with its JetStream
 * buckets and stream (created when missing). Started by the first component that needs it, closed by the last. The
 * client reconnects by itself and keeps its subscriptions.
 *
 * @internal
 */
export class NatsConnections {
  readonly #logger = new Logger('RealtimeNats');
  readonly names: NatsNames;
  readonly #shared = new SharedStart<NatsHandles>(() => this.#stop());
  #handles: NatsHandles | undefined;
  #connected = false;
  #lastError = 'not connected yet';
  readonly #onReconnect = new Set<() => void>();

  constructor(readonly options: ResolvedNatsOptions) {
    this.names = new NatsNames(options.prefix);
  }

  get address(): string {
    return this.options.servers.join(', ');
  }

  acquire(): Promise<NatsHandles> {
    return this.#shared.acquire(() => this.#start());
  }

  /** The caller is done; the last one drains the connection. */
  release(): Promise<void> {
    return this.#shared.release();
  }

  /**
   * Drains the connection when it is up (pending publishes go out), within {@link DRAIN_TIMEOUT_MS}; closes it at
   * once when it is reconnecting, or when the drain fails or takes too long: a drain waits for a server that may
   * never come back, and a shutdown must not hang on it.
   */
  async #stop(): Promise<void> {
    const nc = this.#handles?.nc;
    this.#handles = undefined;
    this.#onReconnect.clear();
    if (nc === undefined) {
      return;
    }
    // A drain only while connected: it would wait for a server that may never come back.
    const drained = this.#connected
      ? await within(
          nc.drain().then(
            () => true,
            () => false,
          ),
          DRAIN_TIMEOUT_MS,
          false,
        )
      : false;
    if (!drained && !nc.isClosed()) {
      await nc.close().catch(() => undefined);
    }
  }

  /** The live handles, or a {@link NatsUnavailableError} saying what could not be done. */
  handles(what: string): NatsHandles {
    const handles = this.#handles;
    if (handles === undefined || handles.nc.isClosed() || !this.#connected) {
      throw this.#unavailable(what);
    }
    return handles;
  }

  /** Runs an operation; a failure while NATS is away (or a timeout) becomes {@link NatsUnavailableError}. */
  async run<T>(what: string, operation: (handles: NatsHandles) => Promise<T>): Promise<T> {
    const handles = this.handles(what);
    try {
      return await operation(handles);
    } catch (error) {
      if (!this.#connected || UNAVAILABLE.test(String(error))) {
        throw this.#unavailable(what, error);
      }
      throw error;
    }
  }

  /** Calls `listener` after every reconnect. */
  onReconnect(listener: () => void): () => void {
    this.#onReconnect.add(listener);
    return () => this.#onReconnect.delete(listener);
  }

  health(): BrokerHealth {
    return this.#connected
      ? { up: true }
      : { up: false, reason: `NATS at ${this.address} is unreachable (${this.#lastError}); reconnecting` };
  }

  #unavailable(what: string, cause?: unknown): NatsUnavailableError {
    const detail = cause instanceof Error ? cause.message : this.#lastError;
    return new NatsUnavailableError(`NATS at ${this.address} is unavailable (${detail}): ${what}`, { cause });
  }

  async #start(): Promise<NatsHandles> {
    const [transport, jetstreamModule, kvModule] = await loadNats();
    let nc: NatsConnection;
    try {
      nc = await transport.connect({
        servers: this.options.servers,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        timeout: this.options.requestTimeoutMs,
        ...this.options.connection,
      });
    } catch (error) {
      throw new NatsUnavailableError(
        `Cannot start: NATS at ${this.address} is unavailable (${(error as Error).message}). Start nats-server -js, ` +
          'or fix the servers option',
        { cause: error },
      );
    }
    this.#connected = true;
    void this.#watch(nc);
    const timeout = this.options.requestTimeoutMs;
    const js = jetstreamModule.jetstream(nc, { timeout });
    const jsm = await jetstreamModule.jetstreamManager(nc, { timeout });
    const kvm = new kvModule.Kvm(js);
    const { names } = this;
    const [presence, nodes, epochs, rateLimits] = await Promise.all([
      kvm.create(names.presenceBucket, { history: 1 }),
      kvm.create(names.nodesBucket, { history: 1, ttl: this.options.nodeTimeoutMs }),
      kvm.create(names.epochsBucket, { history: 1 }),
      kvm.create(names.rateLimitsBucket, { history: 1, ttl: 86_400_000 }),
    ]);
    await this.#ensureHistoryStream(jsm, jetstreamModule);
    this.#handles = { nc, js, jsm, presence, nodes, epochs, rateLimits, headers: transport.headers };
    return this.#handles;
  }

  async #ensureHistoryStream(jsm: JetStreamManager, module: typeof JetStreamModule): Promise<void> {
    const { names } = this;
    const config = {
      name: names.historyStream,
      subjects: [names.historySubjects],
      max_msgs_per_subject: PROTOCOL_LIMITS.historyMaxSize,
      max_age: this.options.historyMaxAgeMs * 1_000_000,
      allow_direct: true,
      discard: module.DiscardPolicy.Old,
    };
    try {
      await jsm.streams.info(names.historyStream);
      await jsm.streams.update(names.historyStream, config);
    } catch (error) {
      if (!(error instanceof module.JetStreamApiError) || error.code !== module.JetStreamApiCodes.StreamNotFound) {
        throw error;
      }
      await jsm.streams.add(config);
    }
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.#connected = false;
        this.#lastError = 'connection lost';
        this.#logger.warn(`Lost the connection to NATS at ${this.address}; reconnecting`);
      } else if (status.type === 'reconnect') {
        this.#connected = true;
        this.#logger.log(`Reconnected to NATS at ${this.address}`);
        for (const listener of this.#onReconnect) {
          listener();
        }
      } else if (status.type === 'error') {
        this.#lastError = status.error.message;
      }
    }
    this.#connected = false;
  }
}

async function loadNats(): Promise<[typeof TransportModule, typeof JetStreamModule, typeof KvModule]> {
  try {
    return await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream'), import('@nats-io/kv')]);
  } catch (error) {
    throw new Error(
      'nestjs-realtime/nats needs the NATS client: npm install @nats-io/transport-node @nats-io/jetstream @nats-io/kv',
      { cause: error },
    );
  }
}
