import { backoffDelay } from './backoff.js';
import { decodeServerFrame, encodeClientFrame } from './binary-frames.js';
import { Emitter } from './emitter.js';
import { RealtimeError, errorOfFrame } from './errors.js';
import { Subscription, type SubscriptionHost } from './subscription.js';
import type {
  AckMap,
  ConnectionState,
  MessageMap,
  RealtimeClientOptions,
  RequestOptions,
  SendOptions,
  ServerMessage,
  StateChange,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';

type ClientEvents = {
  state: [change: StateChange];
  error: [error: RealtimeError];
  /** Every message not for a channel (direct messages, notifications, alerts), and `system:welcome`. */
  message: [message: ServerMessage];
};

interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: RealtimeError) => void;
}

interface Pending {
  readonly resolve: (message: ServerMessage) => void;
  readonly reject: (error: RealtimeError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** A frame waiting for the connection, and the request waiting on it (none for `send()`). */
interface Queued {
  readonly frame: Record<string, unknown>;
  readonly request?: Pending & { readonly id: string };
}

const SUBPROTOCOL = 'realtime.v1';
/** What a `Sec-WebSocket-Protocol` entry may hold (RFC 7230 `token`): a JWT always fits. */
const SUBPROTOCOL_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const OPEN = 1;
/** Close codes after which the server does not want the client back: a server-side disconnect, abuse, a refusal. */
const FINAL_CLOSE_CODES = new Set([1000, 1008, 4403]);

/**
 * The client of a nestjs-realtime server, for browsers and Node. It reconnects with full-jitter exponential backoff
 * (calling `getToken` before every attempt), resubscribes every subscription with its last offset after a reconnect
 * (missed messages arrive in order, once), and correlates requests with their acks.
 *
 * @example
 * ```ts
 * const client = new RealtimeClient('wss://example.com/realtime', { getToken: () => fetchToken() });
 * await client.connect();
 * const room = client.subscribe('room:lobby');
 * await room.ready;
 * room.on('chat:group', (payload, message) => console.log(message.sender, payload));
 * await client.request('chat:group', { text: 'hi' }, { channel: 'room:lobby' });
 * ```
 */
export class RealtimeClient<M extends object = MessageMap, A extends object = AckMap> {
  readonly #events = new Emitter<ClientEvents>();
  readonly #byType = new Emitter<Record<string, [payload: unknown, message: ServerMessage]>>();
  readonly #subscriptions = new Map<string, Subscription<M>>();
  readonly #pending = new Map<string, Pending>();
  readonly #WebSocket: WebSocketConstructor;
  readonly #backoff: { readonly minDelayMs: number; readonly maxDelayMs: number };
  readonly #maxAttempts: number;
  readonly #reconnects: boolean;
  readonly #requestTimeoutMs: number;
  readonly #queueLimit: number;
  /** Frames made while not connected (or still resubscribing), in order. */
  #queue: Queued[] = [];
  /** Connected, and every subscription answered after the (re)connect: frames go out directly. */
  #ready = false;
  #state: ConnectionState = 'closed';
  #socket: WebSocketLike | undefined;
  #wanted = false;
  #attempt = 0;
  #sequence = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #connected: Deferred | undefined;
  #connectionId: string | undefined;
  /** Pings the server every `heartbeatMs` (from the welcome) and drops a connection silent for twice that. */
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #lastSeen = 0;
  #userId: string | null | undefined;
  readonly #host: SubscriptionHost;

  constructor(
    readonly url: string,
    private readonly options: RealtimeClientOptions = {},
  ) {
    const WebSocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WebSocketClass === undefined) {
      throw new TypeError('No WebSocket in this runtime: pass one, e.g. { WebSocket } from the "ws" package');
    }
    this.#WebSocket = WebSocketClass;
    const reconnect = options.reconnect === false ? undefined : (options.reconnect ?? {});
    this.#reconnects = reconnect !== undefined;
    this.#backoff = {
      minDelayMs: positive('reconnect.minDelayMs', reconnect?.minDelayMs ?? 500),
      maxDelayMs: positive('reconnect.maxDelayMs', reconnect?.maxDelayMs ?? 30_000),
    };
    const maxAttempts = reconnect?.maxAttempts;
    if (maxAttempts !== undefined && (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1)) {
      throw new TypeError(
        `Invalid RealtimeClient option "reconnect.maxAttempts": expected an integer from 1, got ${String(maxAttempts)}`,
      );
    }
    this.#maxAttempts = maxAttempts ?? Number.POSITIVE_INFINITY;
    this.#requestTimeoutMs = positive('requestTimeoutMs', options.requestTimeoutMs ?? 10_000);
    const queueLimit = options.offlineQueue ?? 100;
    if (!Number.isSafeInteger(queueLimit) || queueLimit < 0) {
      throw new TypeError(
        `Invalid RealtimeClient option "offlineQueue": expected an integer from 0, got ${String(queueLimit)}`,
      );
    }
    this.#queueLimit = queueLimit;
    if (options.tokenIn !== undefined && options.tokenIn !== 'protocol' && options.tokenIn !== 'query') {
      throw new TypeError(
        `Invalid RealtimeClient option "tokenIn": expected 'protocol' or 'query', got ${String(options.tokenIn)}`,
      );
    }
    const state = () => this.#state;
    this.#host = {
      get connected() {
        return state() === 'connected';
      },
      exchange: (frame) => this.#exchange(frame, this.#requestTimeoutMs),
      send: (frame) => this.#send(frame),
      forget: (channel, subscription) => {
        if (this.#subscriptions.get(channel) === subscription) {
          this.#subscriptions.delete(channel);
        }
      },
    };
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The server's id of the current connection (undefined while not connected). */
  get connectionId(): string | undefined {
    return this.#connectionId;
  }

  /** The user the server authenticated (`null`: anonymous). */
  get userId(): string | null | undefined {
    return this.#userId;
  }

  /**
   * Connects, and stays connected until `close()`: resolves once the server welcomed the client (after retries if
   * needed). Rejects when the server refuses the handshake as unauthorized, or when `close()` is called first.
   */
  connect(): Promise<void> {
    if (this.#state === 'connected') {
      return Promise.resolve();
    }
    if (this.#connected === undefined) {
      let settle!: Omit<Deferred, 'promise'>;
      const promise = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
      this.#connected = { promise, ...settle };
    }
    if (!this.#wanted) {
      this.#wanted = true;
      this.#attempt = 0;
      void this.#open();
    }
    return this.#connected.promise;
  }

  /** Closes for good: no reconnect; pending and queued requests reject with `CLOSED`. `connect()` starts again. */
  close(): void {
    this.#shutDown(new RealtimeError('CLOSED', 'The client was closed'), { reason: 'Client closed' });
  }

  /** Ends everything with `error`: the socket, requests in flight and queued, subscriptions, `connect()`. */
  #shutDown(error: RealtimeError, change: { readonly code?: number; readonly reason?: string }): void {
    this.#wanted = false;
    this.#ready = false;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#watchdog);
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close(1000, 'Client closed');
    this.#failPending(error);
    this.#failQueued(error);
    this.#connected?.reject(error);
    this.#connected = undefined;
    for (const subscription of [...this.#subscriptions.values()]) {
      subscription.end(error);
    }
    this.#setState('closed', change);
  }

  /**
   * Subscribes to a channel (now, or as soon as connected); the same channel gives the same subscription. Await
   * `subscription.ready` to know the server accepted it.
   */
  subscribe(channel: string): Subscription<M> {
    let subscription = this.#subscriptions.get(channel);
    if (subscription === undefined) {
      subscription = new Subscription<M>(channel, this.#host);
      this.#subscriptions.set(channel, subscription);
      if (this.#state === 'connected') {
        void subscription.resubscribe();
      }
    }
    return subscription;
  }

  /**
   * Sends a message and resolves to its ack's payload. While the client is (re)connecting it waits in the offline
   * queue and goes out, in order, once connected and resubscribed. Rejects with a {@link RealtimeError}: the
   * server's `code` on an `error` answer, `TIMEOUT` after `timeoutMs` (from the call), `DISCONNECTED` when the
   * connection drops with it in flight or it cannot wait (not connecting, queue full or off, reconnecting gave up),
   * `CLOSED` on `close()`.
   */
  async request<K extends keyof M & string>(
    type: K,
    payload: M[K],
    options: RequestOptions = {},
  ): Promise<K extends keyof A ? A[K] : unknown> {
    const answer = await this.#call(messageFrame(type, payload, options), options.timeoutMs ?? this.#requestTimeoutMs);
    return answer.payload as K extends keyof A ? A[K] : unknown;
  }

  /**
   * Sends a message without waiting for an answer (no `id`: the server acks nothing). While (re)connecting it waits
   * in the offline queue like a request. Returns false when it was dropped: not connected nor reconnecting, or the
   * queue is full or off.
   */
  send<K extends keyof M & string>(type: K, payload: M[K], options: SendOptions = {}): boolean {
    const frame = messageFrame(type, payload, options);
    if (this.#ready) {
      this.#send(frame);
      return true;
    }
    return this.#enqueue({ frame }) === undefined;
  }

  /** Round-trips a `ping`: resolves to the time it took, in milliseconds. */
  async ping(): Promise<number> {
    const started = Date.now();
    await this.#call({ type: 'ping' }, this.#requestTimeoutMs);
    return Date.now() - started;
  }

  /**
   * `state` ({ from, to, code?, reason? }), `error` (why the client stopped, or an error frame answering nothing),
   * `message`.
   */
  on<K extends keyof ClientEvents>(event: K, handler: (...args: ClientEvents[K]) => void): () => void;
  /** Messages of a type that are not for a channel (`chat:private`, `notification`, `alert`...). */
  on<K extends keyof M & string>(type: K, handler: (payload: M[K], message: ServerMessage<M[K]>) => void): () => void;
  on(type: string, handler: (...args: never[]) => void): () => void {
    if (type === 'state' || type === 'error' || type === 'message') {
      return this.#events.on(type, handler as never);
    }
    return this.#byType.on(type, handler as (payload: unknown, message: ServerMessage) => void);
  }

  async #open(): Promise<void> {
    this.#setState('connecting');
    let token: string | undefined;
    try {
      token = this.options.getToken ? await this.options.getToken() : this.options.token;
    } catch (error) {
      const reason = `getToken failed: ${String(error)}`;
      this.#events.emit('error', new RealtimeError('TOKEN_FAILED', reason));
      this.#disconnected({ reason });
      return;
    }
    if (!this.#wanted) {
      return;
    }
    const url = new URL(this.url);
    const protocols = [SUBPROTOCOL];
    if (token !== undefined) {
      if (this.options.tokenIn !== 'query' && SUBPROTOCOL_TOKEN.test(token)) {
        protocols.push(`bearer.${token}`);
      } else {
        url.searchParams.set('token', token);
      }
    }
    let socket: WebSocketLike;
    try {
      socket = new this.#WebSocket(url.toString(), protocols);
    } catch (error) {
      const reason = `Cannot connect to ${this.url}: ${String(error)}`;
      this.#stop(new RealtimeError('CONNECTION_CLOSED', reason), { reason });
      return;
    }
    // Binary frames (messages with bytes) arrive as ArrayBuffers in browsers and in `ws` alike.
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    let failure: string | undefined;
    socket.addEventListener('message', (event: { data: unknown }) => {
      if (this.#socket === socket) {
        this.#lastSeen = Date.now();
        this.#receive(event.data);
      }
    });
    socket.addEventListener('error', (event: { message?: string; error?: unknown }) => {
      failure = event.message ?? (event.error instanceof Error ? event.error.message : undefined);
    });
    socket.addEventListener('close', (event: { code: number; reason: string }) => {
      if (this.#socket !== socket) {
        return;
      }
      this.#socket = undefined;
      const change = { code: event.code, reason: event.reason || failure || 'no reason given' };
      // Node's ws says why a handshake was refused; a browser sees only close codes: 4401 with `closeUnauthorized`.
      if (event.code === 4401 || (failure !== undefined && /\b401\b/.test(failure))) {
        const error = new RealtimeError('UNAUTHORIZED', 'The server refused the handshake: unauthorized (HTTP 401)');
        this.#stop(error, change);
      } else if (failure !== undefined && /\b403\b/.test(failure)) {
        // Refused before any token was looked at (an origin the server does not accept): retrying cannot help.
        const error = new RealtimeError('FORBIDDEN', 'The server refused the handshake: forbidden (HTTP 403)');
        this.#stop(error, change);
      } else if (FINAL_CLOSE_CODES.has(event.code)) {
        const error = new RealtimeError(
          'CONNECTION_CLOSED',
          `The server closed the connection (${event.code}: ${change.reason})`,
        );
        this.#stop(error, change);
      } else {
        this.#disconnected(change);
      }
    });
  }

  #receive(data: unknown): void {
    let message: ServerMessage;
    try {
      message = decodeServerFrame(data) as ServerMessage;
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null || typeof message.type !== 'string') {
      return;
    }
    if (message.type === 'system:welcome') {
      this.#welcome(message);
    }
    if (message.type === 'system:token_expiring') {
      void this.#refreshToken();
    }
    if (message.type === 'pong' && message.replyTo === undefined) {
      return; // the watchdog's
    }
    const channel = typeof message.channel === 'string' ? this.#subscriptions.get(message.channel) : undefined;
    // Channel traffic, and `subscribed` (before its request resolves: the replayed frames follow it at once).
    // Other answers (`ack`, `error`, `history`, `system:presence`) only settle their request.
    if (channel !== undefined && (message.replyTo === undefined || message.type === 'subscribed')) {
      channel.receive(message);
    }
    if (message.replyTo !== undefined) {
      this.#answer(message);
      return;
    }
    if (message.type === 'error') {
      this.#events.emit('error', errorOfFrame(message));
      return;
    }
    if (channel === undefined) {
      this.#events.emit('message', message);
      this.#byType.emit(message.type, message.payload, message);
    }
  }

  /**
   * The server says the token expires soon: with `getToken`, a fresh one goes in a `refresh` frame, and the connection
   * (its subscriptions included) goes on; a failure is an `error` event (the server closes with 4007 at expiry, and
   * the reconnect asks `getToken` again).
   */
  async #refreshToken(): Promise<void> {
    const getToken = this.options.getToken;
    if (getToken === undefined) {
      return;
    }
    try {
      const token = await getToken();
      await this.#call({ type: 'refresh', payload: { token } }, this.#requestTimeoutMs, true);
    } catch (error) {
      this.#events.emit(
        'error',
        error instanceof RealtimeError
          ? error
          : new RealtimeError('TOKEN_FAILED', `Refreshing the token failed: ${String(error)}`),
      );
    }
  }

  #welcome(message: ServerMessage): void {
    const payload = message.payload as
      { connectionId?: string; userId?: string | null; heartbeatMs?: number } | undefined;
    this.#connectionId = payload?.connectionId;
    this.#userId = payload?.userId;
    this.#watch(payload?.heartbeatMs);
    this.#attempt = 0;
    this.#setState('connected');
    this.#connected?.resolve();
    this.#connected = undefined;
    void this.#resubscribeThenFlush(this.#socket);
  }

  /**
   * Resubscribes every subscription, then sends what waited in the offline queue, in order: a message queued for a
   * channel reaches a subscription that is live again.
   */
  async #resubscribeThenFlush(socket: WebSocketLike | undefined): Promise<void> {
    await Promise.all([...this.#subscriptions.values()].map((subscription) => subscription.resubscribe()));
    if (this.#socket !== socket || this.#state !== 'connected') {
      return; // dropped meanwhile: the queue waits for the next connection
    }
    this.#ready = true;
    const queued = this.#queue;
    this.#queue = [];
    for (const { frame, request } of queued) {
      if (request !== undefined) {
        this.#pending.set(request.id, request);
      }
      this.#send(frame);
    }
  }

  /**
   * Browsers cannot see WebSocket pings, and a connection can die without a close (a lost network): ping the server
   * every `heartbeatMs`, and treat twice that without a frame as a dropped connection.
   */
  #watch(heartbeatMs: number | undefined): void {
    clearInterval(this.#watchdog);
    const socket = this.#socket;
    if (socket === undefined || typeof heartbeatMs !== 'number' || !(heartbeatMs > 0)) {
      return;
    }
    this.#watchdog = setInterval(() => {
      if (this.#socket !== socket) {
        return;
      }
      if (Date.now() - this.#lastSeen > 2 * heartbeatMs) {
        this.#socket = undefined;
        socket.close(4002, 'No answer from the server');
        this.#disconnected({ code: 4002, reason: 'No answer from the server' });
        return;
      }
      this.#send({ type: 'ping' });
    }, heartbeatMs);
  }

  #answer(message: ServerMessage): void {
    const id = String(message.replyTo);
    const pending = this.#pending.get(id);
    if (pending === undefined) {
      return;
    }
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (message.type === 'error') {
      pending.reject(errorOfFrame(message));
    } else {
      pending.resolve(message);
    }
  }

  /** Sends a frame with an id now (subscriptions, while resubscribing); rejects when not connected. */
  #exchange(frame: Record<string, unknown>, timeoutMs: number): Promise<ServerMessage> {
    if (this.#state !== 'connected') {
      return Promise.reject(new RealtimeError('DISCONNECTED', `Not connected (${this.#state})`));
    }
    return this.#call(frame, timeoutMs, true);
  }

  /** Sends a frame with an id, now or from the offline queue, and resolves to its answer. */
  #call(frame: Record<string, unknown>, timeoutMs: number, now = false): Promise<ServerMessage> {
    const id = `c${++this.#sequence}`;
    const withId = { ...frame, id };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        this.#queue = this.#queue.filter((queued) => queued.request?.id !== id);
        reject(new RealtimeError('TIMEOUT', `No answer to "${String(frame.type)}" within ${timeoutMs} ms`));
      }, timeoutMs);
      const request = { id, resolve, reject, timer };
      if (now || this.#ready) {
        this.#pending.set(id, request);
        this.#send(withId);
        return;
      }
      const refused = this.#enqueue({ frame: withId, request });
      if (refused !== undefined) {
        clearTimeout(timer);
        reject(refused);
      }
    });
  }

  /** Puts a frame in the offline queue; returns why it cannot wait (an error), or undefined when it does. */
  #enqueue(queued: Queued): RealtimeError | undefined {
    if (!this.#wanted) {
      return new RealtimeError('DISCONNECTED', `Not connected (${this.#state}): call connect() first`);
    }
    if (this.#queue.length >= this.#queueLimit) {
      return new RealtimeError(
        'DISCONNECTED',
        this.#queueLimit === 0
          ? `Not connected (${this.#state}) and the offline queue is off`
          : `Not connected (${this.#state}) and ${this.#queueLimit} messages wait already (offlineQueue)`,
      );
    }
    this.#queue.push(queued);
    return undefined;
  }

  #send(frame: Record<string, unknown>): void {
    const socket = this.#socket;
    if (socket !== undefined && socket.readyState === OPEN) {
      socket.send(encodeClientFrame(frame));
    }
  }

  /** The connection dropped: reconnect after a backoff, unless closed or out of attempts. */
  #disconnected(change: { readonly code?: number; readonly reason: string }): void {
    clearInterval(this.#watchdog);
    this.#ready = false;
    this.#connectionId = undefined;
    this.#failPending(new RealtimeError('DISCONNECTED', `The connection dropped (${change.code ?? change.reason})`));
    for (const subscription of this.#subscriptions.values()) {
      subscription.suspend();
    }
    if (!this.#wanted) {
      this.#setState('closed', change);
      return;
    }
    if (!this.#reconnects) {
      this.#stop(new RealtimeError('DISCONNECTED', 'The connection dropped and reconnect is off'), change);
      return;
    }
    if (this.#attempt >= this.#maxAttempts) {
      const error = new RealtimeError('DISCONNECTED', `Gave up after ${this.#attempt} reconnect attempts`);
      this.#stop(error, { code: change.code, reason: error.message });
      return;
    }
    this.#setState('disconnected', change);
    this.#retryTimer = setTimeout(() => void this.#open(), backoffDelay(this.#attempt++, this.#backoff));
  }

  /** Gives up: says why, rejects `connect()` and everything waiting, and closes. */
  #stop(error: RealtimeError, change: { readonly code?: number; readonly reason?: string }): void {
    this.#events.emit('error', error);
    this.#shutDown(error, change);
  }

  #failPending(error: RealtimeError): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
  }

  #failQueued(error: RealtimeError): void {
    const queued = this.#queue;
    this.#queue = [];
    for (const { request } of queued) {
      if (request !== undefined) {
        clearTimeout(request.timer);
        request.reject(error);
      }
    }
  }

  #setState(to: ConnectionState, why: { readonly code?: number; readonly reason?: string } = {}): void {
    const from = this.#state;
    if (from !== to) {
      this.#state = to;
      const change: StateChange =
        why.code === undefined
          ? why.reason === undefined
            ? { from, to }
            : { from, to, reason: why.reason }
          : { from, to, code: why.code, reason: why.reason };
      this.#events.emit('state', change);
    }
  }
}

/** A message frame: its type and payload, and the channel or recipient when given. */
function messageFrame(type: string, payload: unknown, options: SendOptions): Record<string, unknown> {
  const frame: Record<string, unknown> = { type, payload };
  if (options.channel !== undefined) {
    frame.channel = options.channel;
  }
  if (options.recipient !== undefined) {
    frame.recipient = options.recipient;
  }
  return frame;
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`Invalid RealtimeClient option "${name}": expected a positive number, got ${String(value)}`);
  }
  return value;
}
