import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RawData, WebSocket } from 'ws';
import { userTopic } from '../broker/broker.js';
import { ChannelMembership } from '../channels/channel-membership.js';
import { Connection, type OutboundPolicy } from '../connection/connection.js';
import { metadataLimitsOf } from '../connection/connection-metadata.js';
import { ConnectionRegistry } from '../connection/connection-registry.js';
import { PREBUILT_FRAMES } from '../internals/ws-internals.js';
import { WriteCoalescer } from '../connection/write-coalescer.js';
import { RealtimeStats } from '../operations/realtime-stats.js';
import { CloseCode } from '../protocol/error-codes.js';
import { welcomeFrame } from '../protocol/frames.js';
import type { WireFormat } from '../protocol/wire-format.js';
import { RESOLVED_OPTIONS } from '../realtime.constants.js';
import type { ResolvedRealtimeOptions } from '../realtime.options.js';
import { InboundDispatcher } from '../routing/inbound-dispatcher.js';
import { LifecycleHooks } from '../routing/lifecycle-hooks.js';
import { type Admitted, HandshakeGate } from './handshake-gate.js';
import { Heartbeat } from './heartbeat.js';
import { TokenExpiry } from '../auth/token-expiry.js';
import { RealtimeNode } from './realtime-node.js';
import { within } from '../util/within.js';

/** The connection a socket carries, for the listeners every socket shares. */
const CONNECTION = Symbol('realtime:connection');
type CarryingSocket = WebSocket & { [CONNECTION]: Connection };

function connectionOf(socket: WebSocket): Connection {
  return (socket as CarryingSocket)[CONNECTION];
}

/** A socket's listeners: one set for all sockets (they find their connection on the socket), none made per socket. */
interface SocketListeners {
  readonly message: (this: WebSocket, data: RawData, isBinary: boolean) => void;
  readonly pong: (this: WebSocket) => void;
  readonly error: (this: WebSocket, error: Error) => void;
  readonly close: (this: WebSocket, code: number, reason: Buffer) => void;
}

/**
 * A connection's life on this node, from the accepted socket to its cleanup: the `Connection`, its place in the
 * registry and the broker interest in its user, the welcome frame and the hooks; on close, leaving its channels and
 * the counts. Also the shared heartbeat and the drain on shutdown.
 */
@Injectable()
export class ConnectionLifecycle {
  readonly #logger = new Logger('RealtimeModule');
  readonly #outbound: OutboundPolicy;
  readonly #listeners: SocketListeners;
  #heartbeat: Heartbeat | undefined;
  #drained: (() => void) | undefined;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedRealtimeOptions,
    private readonly registry: ConnectionRegistry,
    private readonly node: RealtimeNode,
    private readonly gate: HandshakeGate,
    inbound: InboundDispatcher,
    private readonly membership: ChannelMembership,
    private readonly hooks: LifecycleHooks,
    private readonly expiry: TokenExpiry,
    stats: RealtimeStats,
  ) {
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
    const logger = this.#logger;
    const release = (connection: Connection, code: number, reason: string): void => {
      void this.#release(connection, code, reason);
    };
    this.#listeners = {
      message(data, isBinary) {
        const connection = connectionOf(this);
        connection.markSeen(Date.now());
        inbound.receive(connection, data, isBinary);
      },
      pong() {
        connectionOf(this).pong(Date.now());
      },
      error(error) {
        logger.debug(`[${connectionOf(this).id}] socket error: ${error.message}`);
      },
      close(code, reason) {
        // ws emits close once.
        release(connectionOf(this), code, reason.toString());
      },
    };
  }

  /** Starts the heartbeat sweeps. */
  start(): void {
    this.#heartbeat = new Heartbeat(
      this.registry,
      this.hooks,
      this.options.heartbeatIntervalMs,
      this.options.heartbeatTimeoutMs,
    );
  }

  /** Turns an upgraded socket into a connection: registered, listened to, welcomed, announced to the hooks. */
  accept(socket: WebSocket, remoteAddress: string, admitted: Admitted, format: WireFormat): void {
    const id = admitted.connectionId;
    const connection = new Connection(id, socket, admitted.identity, remoteAddress, this.#outbound, format);
    if (this.registry.add(connection) && connection.userId !== null) {
      this.node.watch(userTopic(connection.userId));
    }
    (socket as CarryingSocket)[CONNECTION] = connection;
    const listeners = this.#listeners;
    socket.on('message', listeners.message);
    socket.on('pong', listeners.pong);
    socket.on('error', listeners.error);
    socket.on('close', listeners.close);
    connection.sendFirst(
      welcomeFrame(
        { connectionId: id, userId: connection.userId, heartbeatMs: this.options.heartbeatIntervalMs },
        Date.now(),
      ),
    );
    this.expiry.watch(connection);
    this.hooks.connected(connection);
  }

  /**
   * Stops the heartbeat, closes every connection with 1001, and cuts what has not closed after `drainTimeoutMs`;
   * resolves when every connection is cleaned up (or after the timeout once more, so a stalled broker never hangs
   * the shutdown).
   */
  async drain(): Promise<void> {
    this.#heartbeat?.stop();
    this.expiry.stop();
    if (this.registry.size === 0) {
      return;
    }
    const drained = new Promise<void>((resolve) => (this.#drained = resolve));
    for (const connection of this.registry.all()) {
      connection.close(CloseCode.GOING_AWAY, 'Server shutting down');
    }
    await within(drained, this.options.drainTimeoutMs, undefined);
    for (const connection of this.registry.all()) {
      connection.terminate();
    }
    // Cut sockets close at once, but their cleanup is async (leaving channels through the broker): bound it too.
    await within(drained, this.options.drainTimeoutMs, undefined);
  }

  async #release(connection: Connection, code: number, reason: string): Promise<void> {
    connection.markClosed();
    this.expiry.forget(connection);
    try {
      await this.membership.leaveAll(connection);
    } catch (error) {
      this.#logger.error(`[${connection.id}] leaving channels failed`, (error as Error)?.stack);
    }
    this.gate.uncount(connection.id, connection.userId);
    if (this.registry.remove(connection) && connection.userId !== null) {
      this.node.unwatch(userTopic(connection.userId));
    }
    if (this.registry.size === 0) {
      this.#drained?.();
    }
    await this.hooks.disconnected(connection, { code, reason });
  }
}
