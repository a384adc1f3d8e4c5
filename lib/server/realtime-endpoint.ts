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
import { type PerMessageDeflateOptions, WebSocketServer } from 'ws';
import {
  FailureCode,
  RealtimeAuthError,
  RealtimeConnectionError,
  RealtimeRateLimitError,
} from '../errors/realtime-failure.js';
import { codeOfStatus } from '../exceptions/exception-mapper.js';
import { RealtimeStats } from '../operations/realtime-stats.js';
import { SUBPROTOCOL, SUBPROTOCOL_MSGPACK } from '../protocol/message-types.js';
import { JSON_FORMAT, type WireFormat } from '../protocol/wire-format.js';
import { RESOLVED_OPTIONS } from '../realtime.constants.js';
import type { ResolvedRealtimeOptions } from '../realtime.options.js';
import { LifecycleHooks } from '../routing/lifecycle-hooks.js';
import type { Refusal } from './admission.js';
import { clientAddress } from './client-address.js';
import { ConnectionLifecycle } from './connection-lifecycle.js';
import type { AuthRefusal } from './handshake-authenticator.js';
import { HandshakeDeadlines } from './handshake-deadlines.js';
import { type Admitted, type GateVerdict, HandshakeGate } from './handshake-gate.js';
import { loadMsgpackFormat } from './load-msgpack.js';
import { RealtimeNode } from './realtime-node.js';
import { rejectHandshake } from './reject-handshake.js';
import { interceptUpgrades } from '../internals/upgrade-interceptor.js';
import { ThrottledWarning } from '../util/throttled-warning.js';

/**
 * The WebSocket endpoint: takes upgrades on the app's HTTP server (or its own port), puts each through the
 * {@link HandshakeGate} within the handshake timeout, answers refusals, hands accepted sockets to the
 * {@link ConnectionLifecycle}; at bootstrap it starts the {@link RealtimeNode} first, at shutdown it drains, then
 * closes the node.
 */
@Injectable()
export class RealtimeEndpoint implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly #logger = new Logger('RealtimeModule');
  /** Refused origins, at WARN: a misconfigured proxy refuses every page, and the operator must see why. */
  readonly #originRefusals = new ThrottledWarning(this.#logger);
  readonly #wss: WebSocketServer;
  #httpServer: Server | undefined;
  #ownsHttpServer = false;
  #detachUpgrades: (() => void) | undefined;
  #accepting = false;
  #handshakes: HandshakeDeadlines | undefined;
  /** The MessagePack format, loaded at bootstrap with the `msgpack` option. */
  #msgpack: WireFormat | undefined;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedRealtimeOptions,
    private readonly httpAdapterHost: HttpAdapterHost,
    private readonly node: RealtimeNode,
    private readonly gate: HandshakeGate,
    private readonly lifecycle: ConnectionLifecycle,
    private readonly hooks: LifecycleHooks,
    private readonly stats: RealtimeStats,
  ) {
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

  /**
   * For the testing kit's in-process transport: hands a socket (an in-memory duplex stream) to the HTTP server as if
   * a client had connected, so its handshake and frames take the same path as a real one's.
   */
  injectConnection(socket: Duplex): void {
    if (this.#httpServer === undefined || !this.#accepting) {
      throw new Error('The realtime endpoint is not started (initialize the application first)');
    }
    this.#httpServer.emit('connection', socket);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.msgpack) {
      this.#msgpack = await loadMsgpackFormat();
    }
    await this.node.start();
    this.#httpServer = await this.#resolveHttpServer();
    this.#detachUpgrades = interceptUpgrades(this.#httpServer, this.options.path, (request, socket, head) => {
      try {
        this.#handleUpgrade(request, socket, head);
      } catch (error) {
        this.#failed(socket, error);
      }
    });
    this.lifecycle.start();
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
    if (this.gate.anonymous) {
      this.#logger.warn('No "authenticate" option: every realtime connection is anonymous. Set one to identify users.');
    }
  }

  /** Stops accepting, closes every connection with 1001, and cuts what has not closed after the drain timeout. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.#accepting) {
      return;
    }
    this.#accepting = false;
    this.#handshakes?.stop();
    await this.lifecycle.drain();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.beforeApplicationShutdown();
    this.#detachUpgrades?.();
    this.#detachUpgrades = undefined;
    await this.node.close();
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

  #failed(socket: Duplex, error: unknown): void {
    this.#logger.error('Handshake failed unexpectedly', (error as Error)?.stack);
    socket.destroy();
  }

  #handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const address = clientAddress(request, this.options.trustProxy);
    if (!this.#accepting) {
      this.#refuse(socket, address, {
        status: 503,
        message: 'Server is shutting down',
        code: FailureCode.SHUTTING_DOWN,
      });
      return;
    }
    const admitted = this.gate.admit(request, address);
    if (typeof admitted !== 'function') {
      if (admitted.code === FailureCode.ORIGIN_REFUSED) {
        this.#originRefusals.warn(
          `Handshake from ${address} refused with 403: ${admitted.detail ?? admitted.message}. Behind a reverse ` +
            'proxy, forward the Host with its port ($http_host) or set trustProxy and X-Forwarded-Host',
        );
      } else {
        this.#logger.debug(`Handshake from ${address} refused: ${admitted.message}`);
      }
      this.#refuse(socket, address, admitted);
      return;
    }
    // The socket closes however the handshake or the connection ends: that is when the admission ends too. (A net
    // socket emits close once: `on`, not `once`, which would wrap the listener for every handshake.)
    socket.on('close', admitted);
    const verdict = this.gate.authorize(request);
    if (verdict instanceof Promise) {
      this.#awaitVerdict(request, socket, head, address, verdict).catch((error: unknown) =>
        this.#failed(socket, error),
      );
    } else {
      this.#decided(request, socket, head, address, verdict);
    }
  }

  /** An authenticator that takes time: the handshake is cut if it takes longer than `handshakeTimeoutMs`. */
  async #awaitVerdict(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    address: string,
    verdict: Promise<GateVerdict>,
  ): Promise<void> {
    const handshakes = this.#handshakes!;
    handshakes.start(socket, Date.now());
    // While it waits, an error on the socket (a reset) must not crash the process.
    socket.on('error', ignoreError);
    let decided: GateVerdict;
    try {
      decided = await verdict;
    } finally {
      socket.off('error', ignoreError);
      if (!handshakes.finish(socket)) {
        // Answered 408 already, or cut on shutdown.
        socket.destroy();
      }
    }
    if (socket.destroyed) {
      if (decided.kind === 'accepted') {
        this.gate.uncount(decided.connectionId, decided.identity.userId);
      }
      return;
    }
    this.#decided(request, socket, head, address, decided);
  }

  /** Acts on the gate's verdict: upgrades the socket, or answers the refusal. */
  #decided(request: IncomingMessage, socket: Duplex, head: Buffer, address: string, verdict: GateVerdict): void {
    if (!this.#accepting) {
      // Shutting down while the authenticator worked: the socket is cut.
      if (verdict.kind === 'accepted') {
        this.gate.uncount(verdict.connectionId, verdict.identity.userId);
      }
      socket.destroy();
      return;
    }
    if (verdict.kind === 'unauthenticated') {
      this.#refuseUnauthenticated(request, socket, head, address, verdict.refusal);
      return;
    }
    if (verdict.kind === 'refused') {
      this.#refuse(socket, address, verdict.refusal);
      return;
    }
    this.#upgrade(request, socket, head, address, verdict);
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, address: string, admitted: Admitted): void {
    let accepted = false;
    // ws refuses a bad upgrade by ending the socket: the connection it was counted for never starts.
    socket.on('close', () => {
      if (!accepted) {
        this.gate.uncount(admitted.connectionId, admitted.identity.userId);
      }
    });
    // The 101 answer and the welcome frame leave in one write (one syscall, one segment) instead of two. ws ends or
    // destroys the socket when it refuses the upgrade, which uncorks it.
    socket.cork();
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      accepted = true;
      const format = ws.protocol === SUBPROTOCOL_MSGPACK && this.#msgpack !== undefined ? this.#msgpack : JSON_FORMAT;
      this.lifecycle.accept(ws, address, admitted, format);
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
}

function ignoreError(): void {
  // A socket waiting for its authenticator: a reset ends the handshake, which its close listener handles.
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
