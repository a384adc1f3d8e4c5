import { pack, unpack } from 'msgpackr';
import { WebSocket, type ClientOptions } from 'ws';

/** A frame as the test receives it: plain JSON. */
export interface Frame {
  type: string;
  id?: string | number;
  channel?: string;
  sender?: string | null;
  timestamp?: number;
  replyTo?: string | number;
  error?: { code: string; message: string; details?: unknown };
  payload?: unknown;
  metadata?: Record<string, string>;
  [key: string]: unknown;
}

export interface ConnectOptions {
  token?: string;
  headers?: Record<string, string>;
  protocols?: string | string[];
  /** ws answers pings by itself unless this is false (to simulate a dead peer). */
  autoPong?: boolean;
  path?: string;
  /** Offer permessage-deflate (off by default, like the server). */
  perMessageDeflate?: boolean;
  /** Speak `realtime.v1.msgpack`: frames are sent and read as MessagePack. */
  msgpack?: boolean;
}

const DEFAULT_TIMEOUT_MS = 5000;

/** A refused handshake as the client saw it. */
export interface Refusal {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * A binary frame of `realtime.v1`, read as the README documents it (written here, not imported from the library):
 * JSON, a newline, then the bytes; each `{"$bin":[start,length]}` in the JSON becomes a Buffer of those bytes.
 */
export function readBinaryFrame(data: Buffer): Frame {
  const newline = data.indexOf(0x0a);
  if (newline === -1) {
    throw new Error(`A binary realtime.v1 frame without a newline: ${data.toString('hex')}`);
  }
  const bytes = data.subarray(newline + 1);
  return JSON.parse(data.subarray(0, newline).toString('utf8'), (_key, value: unknown) => {
    const range = (value as { $bin?: [number, number] } | null)?.$bin;
    return Array.isArray(range) ? Buffer.from(bytes.subarray(range[0], range[0] + range[1])) : value;
  }) as Frame;
}

/** A binary frame of `realtime.v1` with one binary value, the payload: `{...envelope, payload: bytes}`. */
export function binaryFrame(envelope: Record<string, unknown>, bytes: Buffer): Buffer {
  const json = JSON.stringify({ ...envelope, payload: { $bin: [0, bytes.length] } });
  return Buffer.concat([Buffer.from(`${json}\n`), bytes]);
}

/** A frame for `realtime.v1`: JSON text, or a binary frame when it holds Buffers (each one becomes a reference). */
function jsonFrame(frame: object): string | Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  const json = JSON.stringify(frame, function (this: Record<string, unknown>, key: string, value: unknown) {
    const original = this[key];
    if (!Buffer.isBuffer(original)) {
      return value;
    }
    parts.push(original);
    length += original.length;
    return { $bin: [length - original.length, original.length] };
  });
  return parts.length === 0 ? json : Buffer.concat([Buffer.from(`${json}\n`), ...parts]);
}

/** A frame predicate for `next()` and `pending()`. */
export function ofType(type: string): (frame: Frame) => boolean {
  return (frame) => frame.type === type;
}

/** A `system:presence_diff` payload. */
export interface PresenceDiff {
  readonly joins?: { userId: string; info: object }[];
  readonly leaves?: { userId: string; info: object }[];
  readonly count: number;
}

export const isPresenceDiff = ofType('system:presence_diff');

/** A predicate: a presence diff announcing that `userId` joined (or, with `leaves`, left). */
export function announces(userId: string, list: 'joins' | 'leaves' = 'joins'): (frame: Frame) => boolean {
  return (frame) =>
    isPresenceDiff(frame) && ((frame.payload as PresenceDiff)[list] ?? []).some((member) => member.userId === userId);
}
let requestSequence = 0;

/**
 * A real `ws` client for tests. Every frame received is queued; `next()` takes the first that matches, waiting for
 * it when it has not arrived. No sleeps: tests move on frames and events, with a timeout that fails loudly.
 */
export class TestClient {
  readonly #queue: Frame[] = [];
  readonly #waiters: { match: (frame: Frame) => boolean; resolve: (frame: Frame) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The server's `Sec-WebSocket-Extensions` answer (the negotiated parameters), '' when none. */
  negotiatedExtensions = '';
  /** Every frame as it came off the wire, in order: for tests of the wire form itself. */
  readonly raw: { readonly data: Buffer; readonly isBinary: boolean }[] = [];
  welcome!: Frame;

  private constructor(
    readonly socket: WebSocket,
    readonly msgpack: boolean,
  ) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      this.raw.push({ data, isBinary });
      this.#receive(
        (isBinary ? (msgpack ? unpack(data) : readBinaryFrame(data)) : JSON.parse(data.toString())) as Frame,
      );
    });
    socket.once('upgrade', (response) => {
      this.negotiatedExtensions = String(response.headers['sec-websocket-extensions'] ?? '');
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  /** Opens a connection and waits for `system:welcome`. */
  static async connect(baseUrl: string, options: ConnectOptions = {}): Promise<TestClient> {
    const client = TestClient.open(baseUrl, options);
    await new Promise<void>((resolve, reject) => {
      client.socket.once('open', () => resolve());
      client.socket.once('error', reject);
      client.socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`Handshake refused with HTTP ${response.statusCode}`)),
      );
    });
    client.welcome = await client.next((frame) => frame.type === 'system:welcome');
    return client;
  }

  /** Creates the socket without waiting (for tests of refused handshakes). */
  static open(baseUrl: string, options: ConnectOptions = {}): TestClient {
    const url = new URL(options.path ?? '/realtime', baseUrl);
    if (options.token !== undefined) {
      url.searchParams.set('token', options.token);
    }
    const clientOptions: ClientOptions = {
      headers: options.headers,
      autoPong: options.autoPong ?? true,
      perMessageDeflate: options.perMessageDeflate ?? false,
    };
    const msgpack = options.msgpack === true;
    const protocols = options.protocols ?? (msgpack ? 'realtime.v1.msgpack' : 'realtime.v1');
    return new TestClient(new WebSocket(url, protocols, clientOptions), msgpack);
  }

  /**
   * Resolves to the HTTP status, the body (parsed when it is JSON) and the headers of a refused handshake; rejects
   * if the handshake succeeds.
   */
  static async refusal(baseUrl: string, options: ConnectOptions = {}): Promise<Refusal> {
    const client = TestClient.open(baseUrl, options);
    return new Promise((resolve, reject) => {
      client.socket.once('open', () => {
        client.socket.close();
        reject(new Error('Handshake was accepted'));
      });
      client.socket.once('unexpected-response', (_request, response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => {
          const json = String(response.headers['content-type']).startsWith('application/json');
          resolve({
            status: response.statusCode ?? 0,
            body: json ? (JSON.parse(text) as unknown) : text,
            headers: response.headers,
          });
        });
      });
      client.socket.once('error', (error) => {
        if (!String(error.message).includes('Unexpected server response')) {
          reject(error);
        }
      });
    });
  }

  get connectionId(): string {
    return (this.welcome.payload as { connectionId: string }).connectionId;
  }

  /**
   * Sends a frame: MessagePack when the client speaks it, else JSON (a binary frame when it holds Buffers); a string
   * or Buffer goes out as is.
   */
  send(frame: object | string | Buffer): void {
    if (typeof frame === 'string' || Buffer.isBuffer(frame)) {
      this.socket.send(frame);
      return;
    }
    this.socket.send(this.msgpack ? pack(frame) : jsonFrame(frame));
  }

  /** Takes the first queued frame matching `match` (any frame by default), waiting for it if needed. */
  next(match: (frame: Frame) => boolean = () => true, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    const index = this.#queue.findIndex(match);
    if (index !== -1) {
      return Promise.resolve(this.#queue.splice(index, 1)[0]);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (frame: Frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`No matching frame within ${timeoutMs} ms; queued: ${JSON.stringify(this.#queue)}`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Takes the next frame of a type. */
  nextOfType(type: string): Promise<Frame> {
    return this.next(ofType(type));
  }

  /** Sends a frame with an id and resolves to the frame answering it (`ack`, `error`, `subscribed`, `pong`). */
  request(frame: Record<string, unknown>): Promise<Frame> {
    const id = (frame.id as string | undefined) ?? `r${++requestSequence}`;
    this.send({ ...frame, id });
    return this.next((candidate) => candidate.replyTo === id);
  }

  async subscribe(channel: string): Promise<Frame> {
    return this.request({ type: 'subscribe', channel });
  }

  /**
   * Round-trips a ping. The server writes to a socket in order, so every frame it sent to this client before
   * answering is in the queue once this resolves: the way to assert that something did NOT arrive.
   */
  async sync(): Promise<void> {
    await this.request({ type: 'ping' });
  }

  /** The queued frames not taken yet (after `sync()`, everything the server had sent). */
  pending(match: (frame: Frame) => boolean = () => true): Frame[] {
    return this.#queue.filter(match);
  }

  /** Forgets every frame received so far (queued and raw): for tests that receive a lot and look at none of it. */
  clear(): void {
    this.#queue.length = 0;
    this.raw.length = 0;
  }

  /** Stops reading from the socket: the peer looks dead (no pongs, no close reply) while the TCP link stays up. */
  stopReading(): void {
    (this.socket as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  /** Reads again after `stopReading()`: what queued up meanwhile arrives. */
  resumeReading(): void {
    (this.socket as unknown as { _socket: { resume(): void } })._socket.resume();
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) {
      return;
    }
    this.socket.close();
    await this.closed;
  }

  #receive(frame: Frame): void {
    const index = this.#waiters.findIndex((waiter) => waiter.match(frame));
    if (index !== -1) {
      this.#waiters.splice(index, 1)[0].resolve(frame);
      return;
    }
    this.#queue.push(frame);
  }
}
