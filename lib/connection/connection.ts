import { WebSocket } from 'ws';
import type { ChannelBinding } from '../channels/channel-definition.js';
import type { RealtimeClient } from '../interfaces/realtime-client.interface.js';
import { encodeEnvelope } from '../protocol/codec.js';
import type { RealtimeEnvelope } from '../protocol/envelope.js';

export interface ConnectionIdentity {
  readonly userId: string | null;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** One WebSocket connection: who it is, which channels it is in, and how to write to it. */
export class Connection implements RealtimeClient {
  readonly userId: string | null;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly connectedAt = new Date();
  /** Last time the peer showed life (a frame or a pong), for the heartbeat sweep. */
  lastSeenAt = Date.now();
  /** When the heartbeat sweep asked this connection to close; it is cut if still open one sweep later. */
  closeRequestedAt: number | undefined;
  readonly #socket: WebSocket;
  readonly #subscriptions = new Map<string, ChannelBinding>();
  #closed = false;

  constructor(
    readonly id: string,
    socket: WebSocket,
    identity: ConnectionIdentity,
    readonly remoteAddress: string,
  ) {
    this.#socket = socket;
    this.userId = identity.userId;
    this.metadata = identity.metadata;
  }

  get protocol(): string {
    return this.#socket.protocol;
  }

  get channels(): readonly string[] {
    return [...this.#subscriptions.keys()];
  }

  /** True once the socket has closed and the connection has been (or is being) cleaned up. */
  get closed(): boolean {
    return this.#closed;
  }

  isSubscribed(channel: string): boolean {
    return this.#subscriptions.has(channel);
  }

  binding(channel: string): ChannelBinding | undefined {
    return this.#subscriptions.get(channel);
  }

  addSubscription(channel: string, binding: ChannelBinding): void {
    this.#subscriptions.set(channel, binding);
  }

  removeSubscription(channel: string): boolean {
    return this.#subscriptions.delete(channel);
  }

  /** Writes an encoded frame if the socket is open; returns whether it was written. */
  sendText(frame: string): boolean {
    if (this.#socket.readyState !== WebSocket.OPEN) {
      return false;
    }
    this.#socket.send(frame);
    return true;
  }

  sendEnvelope(envelope: RealtimeEnvelope): boolean {
    return this.sendText(encodeEnvelope(envelope));
  }

  ping(): void {
    if (this.#socket.readyState === WebSocket.OPEN) {
      this.#socket.ping();
    }
  }

  /** Starts the closing handshake; the socket's `close` event follows. */
  close(code: number, reason: string): void {
    if (this.#socket.readyState === WebSocket.CONNECTING || this.#socket.readyState === WebSocket.OPEN) {
      this.#socket.close(code, reason);
    }
  }

  /** Cuts the connection at once, without a closing handshake. */
  terminate(): void {
    this.#socket.terminate();
  }

  markClosed(): void {
    this.#closed = true;
  }
}
