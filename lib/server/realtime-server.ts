import { type IncomingMessage, STATUS_CODES, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type PerMessageDeflateOptions, type WebSocket, WebSocketServer } from 'ws';
import { ALL_TOPIC, Broker, nodeTopic, userTopic } from '../broker/broker.js';
import { ChannelMembership } from '../channels/channel-membership.js';
import { Connection, type ConnectionIdentity, type OutboundPolicy } from '../connection/connection.js';
import { metadataLimitsOf } from '../connection/connection-metadata.js';
import { ConnectionRegistry } from '../connection/connection-registry.js';
import { LocalDelivery } from '../connection/local-delivery.js';
import { PREBUILT_FRAMES } from '../connection/outbound-frame.js';
import { WriteCoalescer } from '../connection/write-coalescer.js';
import { HistoryStore } from '../history/history-store.js';
import { RealtimeStats } from '../operations/realtime-stats.js';
import { PresenceTracker } from '../presence/presence-tracker.js';
import { RateLimitStore } from '../protection/rate-limit-store.js';
import {
  FailureCode,
  RealtimeAuthError,
  RealtimeBrokerError,
  RealtimeConnectionError,
  RealtimeRateLimitError,
} from '../errors/realtime-failure.js';
import { codeOfStatus } from '../exceptions/exception-mapper.js';
import { CloseCode } from '../protocol/error-codes.js';
import { welcomeFrame } from '../protocol/frames.js';
import { SUBPROTOCOL, SUBPROTOCOL_MSGPACK } from '../protocol/message-types.js';
import { JSON_FORMAT, type WireFormat } from '../protocol/wire-format.js';
import { NODE_ID, RESOLVED_OPTIONS } from '../realtime.constants.js';
import type { ResolvedRealtimeOptions } from '../realtime.options.js';
import { InboundDispatcher } from '../routing/inbound-dispatcher.js';
import { LifecycleHooks } from '../routing/lifecycle-hooks.js';
import { Admission, type Refusal } from './admission.js';
import { clientAddress } from './client-address.js';
import { type AuthRefusal, HandshakeAuthenticator } from './handshake-authenticator.js';
import { HandshakeDeadlines } from './handshake-deadlines.js';
import { Heartbeat } from './heartbeat.js';
import { rejectHandshake } from './reject-handshake.js';
import { loadMsgpackFormat } from './load-msgpack.js';
import { interceptUpgrades } from './upgrade-interceptor.js';

/**
 * The WebSocket endpoint: takes upgrades on the app's HTTP server (or its own port), authenticates them, turns
 * sockets into connections, and drains them on shutdown.
 */
@Injectable()
export class RealtimeServer implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly #logger = new Logger('RealtimeModule');
  readonly #wss: WebSocketServer;
  #httpServer: Server | undefined;
  #ownsHttpServer = false;
  #detachUpgrades: (() => void) | undefined;
  #heartbeat: Heartbeat | undefined;
  #accepting = false;
  #connectionSequence = 0;
  #handshakes: HandshakeDeadlines | undefined;
  #drained: (() => void) | undefined;
  readonly #admission: Admission;
  /** The MessagePack format, loaded at bootstrap with the `msgpack` option. */
  #msgpack: WireFormat | undefined;
  readonly #outbound: OutboundPolicy;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedRealtimeOptions,
    @Inject(NODE_ID) private readonly nodeId: string,
    private readonly httpAdapterHost: HttpAdapterHost,
    private readonly registry: ConnectionRegistry,
    private readonly broker: Broker,
    private readonly delivery: LocalDelivery,
    private readonly authenticator: HandshakeAuthenticator,
    private readonly inbound: InboundDispatcher,
    private readonly membership: ChannelMembership,
    private readonly hooks: LifecycleHooks,
    private readonly presence: PresenceTracker,
    private readonly history: HistoryStore,
    private readonly rateLimits: RateLimitStore,
    private readonly stats: RealtimeStats,
  ) {
    this.#admission = new Admission(options);
    this.#outbound = {
      metadata: metadataLimitsOf(options),
      maxBufferedBytes: options.backpressure.maxBufferedBytes,
      maxBufferedMessages: options.backpressure.maxBufferedMessages,
      closeReason: options.backpressure.closeReason,
      closeGraceMs: options.backpressure.closeGraceMs,
      drop: options.backpressure.policy === 'drop',
      volatileBufferedBytes: options.backpressure.volatileBufferedBytes,
      prebuiltFrames: PREBUILT_FRAMES && !options.perMessageDeflate,
      coalescer: new WriteCoalescer(),
      stats,
      report: (make) => hooks.report(make),
    };
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: wsDeflateOptions(options.perMessageDeflate),
      maxPayload: options.maxPayloadBytes,
      // The first subprotocol the client offers that this server speaks; none offered is fine too (JSON).
      handleProtocols: (protocols) => {
        for (const protocol of protocols) {
          if (protocol === SUBPROTOCOL || (protocol === SUBPROTOCOL_MSGPACK && this.#msgpack !== undefined)) {
            return protocol;
          }
        }
        return false;
      },
    });
  }

  /** Whether new connections are accepted (started, and not shutting down). */
  get accepting(): boolean {
    return this.#accepting;
  }

  /** The address the endpoint listens on: its own port's, or the shared HTTP server's. */
  address(): AddressInfo | null {
    const address = this.#httpServer?.address();
    return address && typeof address === 'object' ? address : null;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.msgpack) {
      this.#msgpack = await loadMsgpackFormat();
    }
    await this.broker.start(this.nodeId, this.delivery.deliver);
    await this.presence.start(this.nodeId);
    await this.broker.subscribe(ALL_TOPIC);
    await this.broker.subscribe(nodeTopic(this.nodeId));
    this.#httpServer = await this.#resolveHttpServer();
    this.#detachUpgrades = interceptUpgrades(this.#httpServer, this.options.path, (request, socket, head) => {
      this.#handleUpgrade(request, socket, head).catch((error: unknown) => {
        this.#logger.error('Handshake failed unexpectedly', (error as Error)?.stack);
        socket.destroy();
      });
    });
    this.#heartbeat = new Heartbeat(
      this.registry,
      this.hooks,
      this.options.heartbeatIntervalMs,
      this.options.heartbeatTimeoutMs,
    );
    this.#handshakes = new HandshakeDeadlines(this.options.handshakeTimeoutMs, (socket) => {
      this.#logger.warn(`Handshake timed out after ${this.options.handshakeTimeoutMs} ms (authentication too slow)`);
      this.#refuse(socket, undefined, {
        status: 408,
        message: 'Handshake timeout',
        code: FailureCode.HANDSHAKE_TIMEOUT,
      });
    });
    this.#accepting = true;
    const where = this.#ownsHttpServer ? `port ${this.address()?.port}` : 'the application HTTP server';
    this.#logger.log(`Realtime endpoint ${this.options.path} on ${where}`);
    if (this.authenticator.anonymous) {
      this.#logger.warn('No "authenticate" option: every realtime connection is anonymous. Set one to identify users.');
    }
  }

  /** Stops accepting, closes every connection with 1001, and cuts what has not closed after the drain timeout. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.#accepting) {
      return;
    }
    this.#accepting = false;
    this.#heartbeat?.stop();
    this.#handshakes?.stop();
    if (this.registry.size > 0) {
      const drained = new Promise<void>((resolve) => (this.#drained = resolve));
      for (const connection of this.registry.all()) {
        connection.close(CloseCode.GOING_AWAY, 'Server shutting down');
      }
      await within(drained, this.options.drainTimeoutMs);
      for (const connection of this.registry.all()) {
        connection.terminate();
      }
      // Cut sockets close at once, but their cleanup is async (leaving channels through the broker): bound it too,
      // so app.close() never hangs on a stalled broker.
      await within(drained, this.options.drainTimeoutMs);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.beforeApplicationShutdown();
    this.#detachUpgrades?.();
    this.#detachUpgrades = undefined;
    // Presence first: a store that takes this node's members out announces their leaves through the broker.
    await this.presence.close();
    await this.broker.close();
    await this.history.close();
    await this.rateLimits.close();
    if (this.#ownsHttpServer && this.#httpServer) {
      const server = this.#httpServer;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  async #resolveHttpServer(): Promise<Server> {
    if (this.options.port === undefined) {
      const server = this.httpAdapterHost.httpAdapter?.getHttpServer() as Server | undefined;
      if (!server) {
        throw new Error(
          'RealtimeModule found no HTTP server to share (an application context has none): set the "port" option',
        );
      }
      return server;
    }
    const server = createServer((_request, response) => {
      response.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' });
      response.end(`This port serves WebSocket connections at ${this.options.path}`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // A client that never finishes its HTTP request is dropped in the same time as a slow handshake.
    server.requestTimeout = this.options.handshakeTimeoutMs;
    server.headersTimeout = this.options.handshakeTimeoutMs;
    this.#ownsHttpServer = true;
    return server;
  }

  async #handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const address = clientAddress(request, this.options.trustProxy);
    if (!this.#accepting) {
      this.#refuse(socket, address, {
        status: 503,
        message: 'Server is shutting down',
        code: FailureCode.SHUTTING_DOWN,
      });
      return;
    }
    const admitted = this.#admission.admit(request, address);
    if (typeof admitted !== 'function') {
      this.#logger.debug(`Handshake from ${address} refused: ${admitted.message}`);
      this.#refuse(socket, address, admitted);
      return;
    }
    // The socket closes however the handshake or the connection ends: that is when the admission ends too.
    socket.once('close', admitted);
    // Until ws takes the socket over, an error on it (a reset during authentication) must not crash the process.
    const ignoreError = (): void => undefined;
    socket.on('error', ignoreError);
    const handshakes = this.#handshakes!;
    handshakes.start(socket, Date.now());
    let identity: ConnectionIdentity | AuthRefusal;
    let expired: boolean;
    try {
      identity = await this.authenticator.authenticate(request);
    } finally {
      expired = !handshakes.finish(socket);
    }
    if (expired) {
      // Answered 408 already, or cut on shutdown.
      return;
    }
    if (!this.#accepting || socket.destroyed) {
      socket.destroy();
      return;
    }
    if ('status' in identity) {
      this.#refuseUnauthenticated(request, socket, head, address, identity, ignoreError);
      return;
    }
    const perUser = this.options.maxConnectionsPerUser;
    if (identity.userId !== null && perUser > 0 && this.registry.ofUser(identity.userId).size >= perUser) {
      this.#logger.debug(`Handshake of user "${identity.userId}" refused: ${perUser} connections already`);
      this.#refuse(socket, address, {
        status: 429,
        message: 'Too many connections for this user',
        code: FailureCode.TOO_MANY_CONNECTIONS,
      });
      return;
    }
    socket.off('error', ignoreError);
    const accepted = identity;
    // The 101 answer and the welcome frame leave in one write (one syscall, one segment) instead of two. ws ends or
    // destroys the socket when it refuses the upgrade, which uncorks it.
    socket.cork();
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      this.#accept(ws, address, accepted);
      socket.uncork();
    });
  }

  /**
   * Answers a handshake the authenticator refused: its status (401, or the `HttpException`'s) and JSON body; with
   * `closeUnauthorized`, a 4xx refusal is upgraded and closed with 4000 + the status (4401), which browsers can see.
   */
  #refuseUnauthenticated(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    address: string,
    refusal: AuthRefusal,
    ignoreError: () => void,
  ): void {
    const { status } = refusal;
    const closeCode = this.options.closeUnauthorized && status < 500 ? 4000 + status : undefined;
    this.stats.handshakesRefused.add(String(closeCode ?? status));
    const code = codeOfStatus(status) ?? FailureCode.HANDSHAKE_REFUSED;
    this.hooks.report(
      () =>
        new RealtimeAuthError(code, `Handshake refused with ${closeCode ?? status}: ${refusal.reason}`, {
          status,
          closeCode,
          remoteAddress: address,
          cause: refusal.cause,
        }),
    );
    if (closeCode === undefined) {
      rejectHandshake(socket, status, refusal.body ?? 'Unauthorized', refusal.headers);
      return;
    }
    // Browsers cannot read a refused handshake's status, only close codes.
    const reason = status === 401 ? 'Unauthorized' : (STATUS_CODES[status] ?? 'Refused');
    socket.off('error', ignoreError);
    this.#wss.handleUpgrade(request, socket, head, (ws) => ws.close(closeCode, reason));
  }

  #refuse(socket: Duplex, address: string | undefined, refusal: Refusal): void {
    this.stats.handshakesRefused.add(String(refusal.status));
    rejectHandshake(socket, refusal.status, refusal.message);
    this.hooks.report(() => {
      const context = { status: refusal.status, remoteAddress: address };
      const message = `Handshake refused with ${refusal.status}: ${refusal.message}`;
      return refusal.code === FailureCode.TOO_MANY_CONNECTIONS
        ? new RealtimeRateLimitError(refusal.code, message, context)
        : new RealtimeConnectionError(refusal.code, message, context);
    });
  }

  #accept(socket: WebSocket, remoteAddress: string, identity: ConnectionIdentity): void {
    const id = `${this.nodeId}.${(++this.#connectionSequence).toString(36)}`;
    const format = socket.protocol === SUBPROTOCOL_MSGPACK && this.#msgpack !== undefined ? this.#msgpack : JSON_FORMAT;
    const connection = new Connection(id, socket, identity, remoteAddress, this.#outbound, format);
    if (this.registry.add(connection) && connection.userId !== null) {
      this.#watch(userTopic(connection.userId));
    }
    this.presence.connected(connection);
    socket.on('message', (data, isBinary) => {
      connection.markSeen(Date.now());
      this.inbound.receive(connection, data, isBinary);
    });
    socket.on('pong', () => {
      connection.pong(Date.now());
    });
    socket.on('error', (error) => {
      this.#logger.debug(`[${connection.id}] socket error: ${error.message}`);
    });
    socket.once('close', (code, reason) => {
      void this.#release(connection, code, reason.toString());
    });
    connection.sendEnvelope(
      welcomeFrame(
        { connectionId: id, userId: connection.userId, heartbeatMs: this.options.heartbeatIntervalMs },
        Date.now(),
      ),
    );
    this.hooks.connected(connection);
  }

  async #release(connection: Connection, code: number, reason: string): Promise<void> {
    connection.markClosed();
    try {
      await this.membership.leaveAll(connection);
    } catch (error) {
      this.#logger.error(`[${connection.id}] leaving channels failed`, (error as Error)?.stack);
    }
    this.presence.disconnected(connection);
    if (this.registry.remove(connection) && connection.userId !== null) {
      this.#unwatch(userTopic(connection.userId));
    }
    if (this.registry.size === 0) {
      this.#drained?.();
    }
    await this.hooks.disconnected(connection, { code, reason });
  }

  #watch(topic: string): void {
    this.broker
      .subscribe(topic)
      .catch((error: unknown) => this.#brokerFailed(`Broker subscription to ${topic}`, error));
  }

  #unwatch(topic: string): void {
    this.broker
      .unsubscribe(topic)
      .catch((error: unknown) => this.#brokerFailed(`Broker unsubscription from ${topic}`, error));
  }

  #brokerFailed(what: string, error: unknown): void {
    this.#logger.error(`${what} failed`, (error as Error)?.stack);
    this.hooks.report(() => new RealtimeBrokerError(FailureCode.BROKER_FAILED, `${what} failed`, { cause: error }));
  }
}

/** ws's permessage-deflate options for ours (false: off). */
function wsDeflateOptions(deflate: ResolvedRealtimeOptions['perMessageDeflate']): PerMessageDeflateOptions | false {
  if (deflate === false) {
    return false;
  }
  return {
    threshold: deflate.threshold,
    zlibDeflateOptions: { level: deflate.level, memLevel: deflate.memLevel },
    serverMaxWindowBits: deflate.serverMaxWindowBits,
    clientMaxWindowBits: deflate.clientMaxWindowBits,
    serverNoContextTakeover: !deflate.contextTakeover,
    clientNoContextTakeover: !deflate.contextTakeover,
  };
}

/** Waits for `promise`, or `ms` milliseconds, whichever comes first. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
