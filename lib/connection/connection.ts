import { type RawData, WebSocket } from 'ws';
import type { ChannelBinding } from '../channels/channel-definition.js';
import type { RealtimeConnection } from '../interfaces/realtime-connection.interface.js';
import type { RealtimeStats } from '../operations/realtime-stats.js';
import type { RealtimeEnvelope } from '../protocol/envelope.js';
import type { WireFormat } from '../protocol/wire-format.js';
import { type FrameSender, idleFrameSender } from '../internals/ws-internals.js';
import { type OutboundFrame, encodeFrame, frameBytes, packedFrameBytes } from './outbound-frame.js';
import { FailureCode, type RealtimeFailure, RealtimeConnectionError } from '../errors/realtime-failure.js';
import { CloseCode } from '../protocol/error-codes.js';
import { type MetadataLimits, patchMetadata } from './connection-metadata.js';
import { ConnectionView } from './connection-view.js';
import type { WriteCoalescer } from './write-coalescer.js';

/** A frame that arrived while an earlier one of the same connection was still being handled. */
export interface DeferredFrame {
  readonly data: RawData;
  readonly isBinary: boolean;
}

/** ws send options: a message sent with `compress: false` (data compressed already), and the rest. */
const UNCOMPRESSED = { compress: false } as const;
const DEFAULT_SEND = {} as const;

/** Past this many deferred frames the socket stops reading, so a pipelining client is slowed by TCP, not buffered. */
const BACKLOG_PAUSE = 64;
const BACKLOG_RESUME = 16;

export interface ConnectionIdentity {
  readonly userId: string | null;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly info: Readonly<Record<string, unknown>>;
  /** When the credential expires (ms since the epoch); undefined: never. */
  readonly expiresAt?: number;
}

/** A channel frame that arrived while the subscription was being set up. */
interface HeldFrame {
  readonly frame: OutboundFrame;
  readonly offset: number | undefined;
  readonly volatile: boolean;
}

/** How writes treat a connection that is behind, and other bounds: shared by every connection of a server. */
export interface OutboundPolicy {
  /** How much metadata a connection may hold (`setMetadata`). */
  readonly metadata: MetadataLimits;
  /** Bytes queued past which the connection is closed (4000) or, with `drop`, published messages are dropped. */
  readonly maxBufferedBytes: number;
  /** Messages queued past which the same happens (held once per event-loop turn); 0: no cap. */
  readonly maxBufferedMessages: number;
  /** The close reason, and how long a slow consumer gets to close before it is cut. */
  readonly closeReason: string;
  readonly closeGraceMs: number;
  readonly drop: boolean;
  /** Bytes queued past which volatile messages are dropped. */
  readonly volatileBufferedBytes: number;
  /** Write whole pre-built frames (off with permessage-deflate, whose queue a direct write would overtake). */
  readonly prebuiltFrames: boolean;
  /** Coalesces the pre-built frames of a burst into one write per socket. */
  readonly coalescer: WriteCoalescer;
  readonly stats: RealtimeStats;
  /** Hands a failure to the `OnRealtimeError` hooks (built only when there is one). */
  readonly report: (make: () => RealtimeFailure) => void;
}

/** One WebSocket connection: who it is, which channels it is in, and how to write to it. */
export class Connection implements RealtimeConnection {
  readonly userId: string | null;
  readonly info: Readonly<Record<string, unknown>>;
  #metadata: Readonly<Record<string, unknown>>;
  readonly #socket: WebSocket;
  /** Made at the first subscription: many connections never join a channel. */
  #subscriptions: Map<string, ChannelBinding> | undefined;
  #closed = false;
  /** Milliseconds, not a Date: a number per connection is smaller, and most connections are never asked. */
  readonly #connectedAt = Date.now();
  #lastSeenAt = this.#connectedAt;
  #closeRequestedAt: number | undefined;
  #handling = false;
  #backlog: DeferredFrame[] | undefined;
  /** Channels whose subscription is being set up: their frames wait here. Undefined when none (the usual case). */
  #held: Map<string, HeldFrame[]> | undefined;
  /** The key of this connection's frame bucket, made once (the rate limiter sets it). */
  rateLimitKey: string | undefined;
  #refusals = 0;
  #refusalWindowStart = 0;
  /** History channels: the last offset this connection has, so it never gets one twice or out of order. */
  #offsets: Map<string, number> | undefined;
  /** The event-loop turn of the last pre-built write (see `WriteCoalescer`). */
  #writeTurn = 0;
  /**
   * Messages queued for this connection: those written while something was queued already, until their write
   * completes (a write to an empty queue goes out at once and takes no callback, the usual case). Held against
   * `maxBufferedMessages` once per event-loop turn, at the turn's first write: a burst within one turn is corked and
   * flushed at its end, and a reader that keeps up has taken it by the next turn.
   */
  #queuedMessages = 0;
  /** The write callback that counts a queued message out (one per connection, made when first needed). */
  #written: (() => void) | undefined;
  #queueCheckedTurn = 0;
  #tooManyQueued = false;
  /** When the last unanswered heartbeat ping left, and the round trip the last pong measured. */
  #pingSentAt: number | undefined;
  #rttMs: number | undefined;
  #view: RealtimeConnection | undefined;

  constructor(
    readonly id: string,
    socket: WebSocket,
    identity: ConnectionIdentity,
    readonly remoteAddress: string,
    private readonly outbound: OutboundPolicy,
    /** How this connection's frames are encoded: JSON text, or MessagePack binary. */
    readonly format: WireFormat,
  ) {
    this.#socket = socket;
    this.userId = identity.userId;
    this.#metadata = identity.metadata;
    this.info = identity.info;
    this.expiresAt = identity.expiresAt;
  }

  /** When the credential expires (ms since the epoch): set at the handshake, moved by each accepted refresh. */
  expiresAt: number | undefined;

  /** What user code gets of this connection (handlers, guards, hooks, `RealtimeService`): read-only. */
  get view(): RealtimeConnection {
    return (this.#view ??= new ConnectionView(this));
  }

  get metadata(): Readonly<Record<string, unknown>> {
    return this.#metadata;
  }

  /**
   * Sets (or, with `undefined`, removes) metadata keys; guards and handlers see the new values from now on.
   * Throws, changing nothing, past `maxMetadataEntries` / `maxMetadataBytes` or for a non-JSON value.
   */
  setMetadata(patch: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
    this.#metadata = patchMetadata(this.#metadata, patch, this.outbound.metadata);
    return this.#metadata;
  }

  get connectedAt(): Date {
    return new Date(this.#connectedAt);
  }

  get protocol(): string {
    return this.#socket.protocol;
  }

  get channels(): readonly string[] {
    return this.#subscriptions === undefined ? [] : [...this.#subscriptions.keys()];
  }

  /** True once the socket has closed and the connection has been (or is being) cleaned up. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Last time the peer showed life (a frame or a pong), for the heartbeat sweep. */
  get lastSeenAt(): number {
    return this.#lastSeenAt;
  }

  markSeen(now: number): void {
    this.#lastSeenAt = now;
  }

  /** Counts a rate-limit refusal; returns how many this connection had in the current window of `windowMs`. */
  countRefusal(now: number, windowMs: number): number {
    if (now - this.#refusalWindowStart >= windowMs) {
      this.#refusalWindowStart = now;
      this.#refusals = 0;
    }
    return ++this.#refusals;
  }

  /** When the heartbeat sweep asked this connection to close; it is cut if still open one sweep later. */
  get closeRequestedAt(): number | undefined {
    return this.#closeRequestedAt;
  }

  /** True while a frame of this connection is being handled: frames are handled one at a time, in order. */
  get handling(): boolean {
    return this.#handling;
  }

  set handling(value: boolean) {
    this.#handling = value;
  }

  get channelCount(): number {
    return this.#subscriptions?.size ?? 0;
  }

  isSubscribed(channel: string): boolean {
    return this.#subscriptions?.has(channel) === true;
  }

  binding(channel: string): ChannelBinding | undefined {
    return this.#subscriptions?.get(channel);
  }

  addSubscription(channel: string, binding: ChannelBinding): void {
    (this.#subscriptions ??= new Map()).set(channel, binding);
  }

  removeSubscription(channel: string): boolean {
    if (this.#subscriptions?.delete(channel) !== true) {
      return false;
    }
    this.#offsets?.delete(channel);
    if (this.#held?.delete(channel) && this.#held.size === 0) {
      this.#held = undefined;
    }
    return true;
  }

  /**
   * Delivers a frame published to one of this connection's channels. While the subscription is being set up it is
   * held; a frame with an offset the connection already has (replayed from history) is dropped. Returns whether it
   * was written.
   */
  deliverToChannel(channel: string, frame: OutboundFrame, offset: number | undefined, volatile: boolean): boolean {
    const held = this.#held?.get(channel);
    if (held !== undefined) {
      held.push({ frame, offset, volatile });
      return false;
    }
    if (offset !== undefined && this.#offsets !== undefined) {
      const last = this.#offsets.get(channel);
      if (last !== undefined) {
        if (offset <= last) {
          return false;
        }
        this.#offsets.set(channel, offset);
      }
    }
    return this.deliver(frame, volatile);
  }

  /** Holds the channel's frames until {@link release}: the subscription's first frames must go out first. */
  hold(channel: string): void {
    (this.#held ??= new Map()).set(channel, []);
  }

  /**
   * Ends the hold: records the channel's position (history channels: the last offset the client has been given or
   * told about) and delivers the held frames that are newer, in order.
   */
  release(channel: string, position: number | undefined): void {
    const held = this.#held?.get(channel);
    if (held === undefined) {
      return;
    }
    this.#held!.delete(channel);
    if (this.#held!.size === 0) {
      this.#held = undefined;
    }
    if (position !== undefined) {
      (this.#offsets ??= new Map()).set(channel, position);
    }
    for (const { frame, offset, volatile } of held) {
      this.deliverToChannel(channel, frame, offset, volatile);
    }
  }

  /** Bytes queued for this connection and not yet handed to the network. */
  get bufferedBytes(): number {
    return this.#socket.bufferedAmount;
  }

  /**
   * Writes a published message (a broadcast, a direct message, an event). Past `maxBufferedBytes` or
   * `maxBufferedMessages` queued, the connection is closed as a slow consumer, or with the `drop` policy the message
   * is dropped; a volatile message is dropped already past `volatileBufferedBytes`. Returns whether it was written
   * (the caller counts it).
   */
  deliver(frame: OutboundFrame, volatile: boolean): boolean {
    if (!this.#writable()) {
      return false;
    }
    const buffered = this.#socket.bufferedAmount;
    const policy = this.outbound;
    if (this.#behind(buffered)) {
      if (!policy.drop) {
        this.#closeSlowConsumer();
        return false;
      }
      policy.stats.dropped++;
      return false;
    }
    if (volatile && buffered > policy.volatileBufferedBytes) {
      policy.stats.droppedVolatile++;
      return false;
    }
    const prebuilt = this.#frameSender();
    const options = frame.compress ? DEFAULT_SEND : UNCOMPRESSED;
    const done = this.#queued(buffered);
    if (this.format.binary) {
      const packed = (frame.packed ??= this.format.fromJson(frame.text) as Buffer);
      if (prebuilt !== undefined) {
        this.#writeFrame(prebuilt, packedFrameBytes(frame, packed), done);
      } else {
        this.#socket.send(packed, options, done);
      }
    } else {
      const data = (frame.data ??= this.format.fromJson(frame.text));
      if (prebuilt !== undefined) {
        this.#writeFrame(prebuilt, frameBytes(frame, data), done);
      } else {
        this.#socket.send(data, options, done);
      }
    }
    return true;
  }

  /** Counts a write made while `buffered` bytes wait, and returns the callback that counts it out; none otherwise. */
  #queued(buffered: number): (() => void) | undefined {
    if (buffered === 0 || this.outbound.maxBufferedMessages === 0) {
      return undefined;
    }
    this.#queuedMessages++;
    return (this.#written ??= () => {
      if (this.#queuedMessages > 0) {
        this.#queuedMessages--;
      }
    });
  }

  /** Whether this connection is past a backpressure bound: bytes queued, or messages queued (checked once a turn). */
  #behind(buffered: number): boolean {
    const policy = this.outbound;
    if (buffered === 0) {
      // Nothing waits: any count left is of writes whose callbacks have not run yet.
      this.#queuedMessages = 0;
      this.#tooManyQueued = false;
      return false;
    }
    if (policy.maxBufferedMessages > 0) {
      const turn = policy.coalescer.turn();
      if (turn !== this.#queueCheckedTurn) {
        this.#queueCheckedTurn = turn;
        this.#tooManyQueued = this.#queuedMessages >= policy.maxBufferedMessages;
      }
    }
    return buffered > policy.maxBufferedBytes || this.#tooManyQueued;
  }

  /**
   * Writes a reply to this connection's own frames (`ack`, `error`, `subscribed`, replayed history, ...): never
   * dropped, since the client asked for it and its requests are rate-limited, but a connection past
   * `maxBufferedBytes` or `maxBufferedMessages` under the `close` policy is closed. Returns whether it was written.
   */
  sendText(frame: string, type: string): boolean {
    return this.#reply(this.format.fromJson(frame), type);
  }

  /** Encodes and writes a reply envelope in this connection's format (see `sendText`). */
  sendEnvelope(envelope: RealtimeEnvelope): boolean {
    return this.#reply(this.format.encode(envelope), envelope.type);
  }

  /**
   * Writes the connection's first frame (the welcome) while the endpoint holds the socket corked with the
   * handshake's answer: nothing can be queued for a connection yet, so the backpressure checks of
   * {@link sendEnvelope} are skipped, and the cork already joins the two writes, so the write coalescer is not asked
   * (which would schedule an end of turn for every handshake).
   */
  sendFirst(envelope: RealtimeEnvelope): void {
    this.#writeReply(this.format.encode(envelope), envelope.type, undefined, true);
  }

  #reply(data: string | Buffer, type: string): boolean {
    if (!this.#writable()) {
      return false;
    }
    const buffered = this.#socket.bufferedAmount;
    if (this.#behind(buffered) && !this.outbound.drop) {
      this.#closeSlowConsumer();
      return false;
    }
    this.#writeReply(data, type, this.#queued(buffered));
    return true;
  }

  /** Writes a reply's data, framed here when ws's sender is idle, and counts it. `corked`: see {@link #writeFrame}. */
  #writeReply(data: string | Buffer, type: string, done: (() => void) | undefined, corked = false): void {
    const sender = this.#frameSender();
    if (sender !== undefined) {
      this.#writeFrame(sender, encodeFrame(data), done, corked);
    } else {
      this.#socket.send(data, DEFAULT_SEND, done);
    }
    this.outbound.stats.framesOut.add(type);
  }

  /**
   * Writes a whole frame to the socket, through the write coalescer unless the socket is `corked` by its caller
   * already (the handshake's).
   */
  #writeFrame(sender: FrameSender, frame: Buffer, done: (() => void) | undefined, corked = false): void {
    // What ws's sendFrame does with one buffer, without the list it takes (an array per delivery).
    const socket = sender._socket;
    if (!corked) {
      this.#writeTurn = this.outbound.coalescer.beforeWrite(socket, this.#writeTurn);
    }
    socket.write(frame, done);
  }

  /** ws's sender when a whole frame can be written through it now (see `OutboundPolicy.prebuiltFrames`). */
  #frameSender(): FrameSender | undefined {
    if (!this.outbound.prebuiltFrames) {
      return undefined;
    }
    return idleFrameSender(this.#socket);
  }

  #writable(): boolean {
    return this.#socket.readyState === WebSocket.OPEN && this.#closeRequestedAt === undefined;
  }

  /** Stops writing to a connection that does not read; it is cut if it has not closed after `closeGraceMs`. */
  #closeSlowConsumer(): void {
    const policy = this.outbound;
    policy.stats.slowConsumers++;
    this.requestClose(CloseCode.SLOW_CONSUMER, policy.closeReason, Date.now());
    // Cut it if it has not closed within the grace: a slow consumer may never read as far as the close frame.
    setTimeout(() => this.terminate(), policy.closeGraceMs).unref();
    policy.report(() => {
      const bound = this.#tooManyQueued ? `${policy.maxBufferedMessages} messages` : `${policy.maxBufferedBytes} bytes`;
      return new RealtimeConnectionError(
        FailureCode.SLOW_CONSUMER,
        `More than ${bound} queued: closed as a slow consumer`,
        { client: this.view, closeCode: CloseCode.SLOW_CONSUMER },
      );
    });
  }

  /** Sends a WebSocket ping (the heartbeat), remembering when, to measure the round trip at the pong. */
  ping(now: number): void {
    if (this.#socket.readyState === WebSocket.OPEN) {
      this.#pingSentAt = now;
      this.#socket.ping();
    }
  }

  /** The peer answered a ping: it is alive, and the round trip is measured. */
  pong(now: number): void {
    this.#lastSeenAt = now;
    if (this.#pingSentAt !== undefined) {
      this.#rttMs = now - this.#pingSentAt;
      this.#pingSentAt = undefined;
    }
  }

  /** The round trip of the last heartbeat ping, in milliseconds; undefined before the first pong. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** Asks the peer to close (heartbeat timeout), remembering when, so the next sweep can cut it. */
  requestClose(code: number, reason: string, now: number): void {
    this.#closeRequestedAt = now;
    this.close(code, reason);
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
    this.#backlog = undefined;
  }

  /** Keeps a frame until the one being handled is done. */
  defer(data: RawData, isBinary: boolean): void {
    const backlog = (this.#backlog ??= []);
    backlog.push({ data, isBinary });
    if (backlog.length >= BACKLOG_PAUSE && !this.#socket.isPaused) {
      this.#socket.pause();
    }
  }

  /** The next deferred frame, in arrival order. */
  takeDeferred(): DeferredFrame | undefined {
    const backlog = this.#backlog;
    if (backlog === undefined) {
      return undefined;
    }
    const next = backlog.shift();
    if (backlog.length === 0) {
      this.#backlog = undefined;
    }
    if (backlog.length <= BACKLOG_RESUME && this.#socket.isPaused && !this.#closed) {
      this.#socket.resume();
    }
    return next;
  }
}
