import type { Server } from 'node:http';
import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import { WebSocket } from 'ws';
import { SUBPROTOCOL } from '../protocol/message-types.js';
import { RESOLVED_OPTIONS } from '../realtime.constants.js';
import type { ResolvedRealtimeOptions } from '../realtime.options.js';
import { HandshakeAuthenticator, TEST_TICKET_HEADER } from '../server/handshake-authenticator.js';
import { TOKEN_SUBPROTOCOL_PREFIX } from '../server/handshake-token.js';
import { RealtimeEndpoint } from '../server/realtime-endpoint.js';
import { RealtimeService } from '../service/realtime.service.js';
import { BroadcastLog } from './broadcast-log.js';
import type { ReceivedFrame } from './frame-inbox.js';
import { MemorySocket } from './memory-socket.js';
import { type PayloadMatcher, describeMatcher, matchesPayload } from './payload-matcher.js';
import { RealtimeTestClient } from './realtime-test-client.js';
import { RealtimeTestError } from './realtime-test-error.js';

/**
 * How test clients reach the app. `in-process`: no port and no TCP socket: each connection is an in-memory stream
 * handed to the app's HTTP server, so its handshake and every frame take the same path as a real client's (HTTP
 * parsing, origin checks, authentication, decoding, rate limits, routing, guards, pipes, interceptors, filters).
 * `socket`: a real `ws` client over loopback (the app listens on a free port when it does not listen yet).
 */
export type RealtimeTransport = 'in-process' | 'socket';

/** How `RealtimeTesting.create` connects test clients, and how long they wait. */
export interface RealtimeTestingOptions {
  /** Default `in-process`. */
  readonly transport?: RealtimeTransport;
  /** How long requests and expectations wait before they fail, in ms (real time, whatever the test's timers). Default 2000. */
  readonly timeoutMs?: number;
}

/**
 * Who a test client is. With `userId` (a string, or null for a visitor) the authenticator is skipped and the
 * connection gets that identity; with `token` the authenticator runs on it (sent the way the client SDK sends it, as
 * a `bearer.<token>` entry of `Sec-WebSocket-Protocol`); with neither, the authenticator runs on a handshake without
 * credentials. Connect hooks run either way.
 */
export interface TestConnectOptions {
  readonly userId?: string | null;
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** Presence info shown to other members. */
  readonly info?: Readonly<Record<string, unknown>>;
  /** When the identity expires (ms since the epoch): the connection is warned, then closed with 4007. */
  readonly expiresAt?: number;
  readonly token?: string;
  /** Extra handshake headers (`origin`, `authorization`, ...). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Query parameters of the handshake URL. */
  readonly query?: Readonly<Record<string, string>>;
  /** In process: the client's address as the server sees it. Default `127.0.0.1`. */
  readonly address?: string;
  /** `false`: the client does not answer the server's heartbeat pings (a peer that died without closing). */
  readonly autoPong?: boolean;
}

type Target = INestApplicationContext & { createNestApplication?: () => INestApplication };

/**
 * Tests for realtime code in a few lines: connect clients as users, subscribe, send, and assert on what arrives
 * and on what the app broadcast, in process or over a real socket with the same API.
 *
 * @example
 * const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
 * const rt = await RealtimeTesting.create(moduleRef);
 * const alice = await rt.connect({ userId: 'alice' });
 * await alice.subscribe('room:1');
 * await alice.request('chat:group', { text: 'hi' }, { channel: 'room:1' });
 * await rt.expectBroadcast('room:1', 'chat:group', { text: 'hi' });
 * await rt.close();
 */
export class RealtimeTesting {
  readonly #clients = new Set<RealtimeTestClient>();
  readonly #broadcasts: BroadcastLog;
  readonly #ownsApp: boolean;
  readonly #listeningServer: Server | undefined;
  /** The app's realtime parts the kit uses, resolved once. */
  readonly #path: string;
  readonly #service: RealtimeService;
  readonly #authenticator: HandshakeAuthenticator;
  readonly #endpoint: RealtimeEndpoint;
  #closed = false;

  private constructor(
    /** The application under test (created by the kit from a testing module, or the one it was given). */
    readonly app: INestApplicationContext,
    readonly transport: RealtimeTransport,
    readonly timeoutMs: number,
    ownsApp: boolean,
    listeningServer: Server | undefined,
  ) {
    this.#ownsApp = ownsApp;
    this.#listeningServer = listeningServer;
    this.#path = app.get<symbol, ResolvedRealtimeOptions>(RESOLVED_OPTIONS, { strict: false }).path;
    this.#service = app.get(RealtimeService, { strict: false });
    this.#authenticator = app.get(HandshakeAuthenticator, { strict: false });
    this.#endpoint = app.get(RealtimeEndpoint, { strict: false });
    this.#broadcasts = new BroadcastLog(this.#service);
  }

  /**
   * Starts the kit on a compiled testing module (the kit creates the application and closes it in `close()`) or on
   * an application or context (initialized if it was not; closing it stays the caller's).
   */
  static async create(target: Target, options: RealtimeTestingOptions = {}): Promise<RealtimeTesting> {
    const transport = options.transport ?? 'in-process';
    if (transport !== 'in-process' && transport !== 'socket') {
      throw new TypeError(`RealtimeTesting: unknown transport ${JSON.stringify(transport)} (in-process or socket)`);
    }
    const timeoutMs = options.timeoutMs ?? 2000;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      throw new TypeError(`RealtimeTesting: timeoutMs must be a positive number of ms, got ${String(timeoutMs)}`);
    }
    const ownsApp = typeof target.createNestApplication === 'function';
    const app = ownsApp ? target.createNestApplication!() : target;
    try {
      await app.init();
    } catch (error) {
      // A boot that fails (a bad option, a channel without a join check) leaves nothing open behind it.
      if (ownsApp) {
        await app.close().catch(() => undefined);
      }
      throw error;
    }
    let listening: Server | undefined;
    if (transport === 'socket' && app.get(RealtimeService, { strict: false }).getAddress() === null) {
      const http = app as Partial<INestApplication>;
      if (typeof http.listen !== 'function') {
        throw new Error('RealtimeTesting: the socket transport needs an HTTP application or the "port" option');
      }
      await http.listen(0, '127.0.0.1');
      listening = ownsApp ? undefined : (http.getHttpServer!() as Server);
    }
    return new RealtimeTesting(app, transport, timeoutMs, ownsApp, listening);
  }

  /** Connects a client and waits for its `system:welcome`; throws a {@link RealtimeTestError} if the handshake is refused. */
  async connect(options: TestConnectOptions = {}): Promise<RealtimeTestClient> {
    if (this.#closed) {
      throw new Error('RealtimeTesting is closed');
    }
    const headers: Record<string, string> = { ...options.headers };
    if (options.userId !== undefined) {
      headers[TEST_TICKET_HEADER] = this.#authenticator.issueTestTicket({
        userId: options.userId,
        metadata: options.metadata,
        info: options.info,
        expiresAt: options.expiresAt,
      });
    }
    const protocols =
      options.token === undefined ? [SUBPROTOCOL] : [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${options.token}`];
    const query = new URLSearchParams(options.query).toString();
    const autoPong = options.autoPong ?? true;
    const path = `${this.#path}${query === '' ? '' : `?${query}`}`;
    let socket: WebSocket;
    if (this.transport === 'in-process') {
      const pair = MemorySocket.pair(options.address ?? '127.0.0.1');
      socket = new WebSocket(`ws://realtime.test${path}`, protocols, {
        headers,
        autoPong,
        createConnection: () => pair.client,
      });
      this.#endpoint.injectConnection(pair.server);
    } else {
      const address = this.#service.getAddress()!;
      socket = new WebSocket(`ws://127.0.0.1:${address.port}${path}`, protocols, { headers, autoPong });
    }
    const client = new RealtimeTestClient(socket, this.timeoutMs);
    this.#clients.add(client);
    void client.closed.then(() => this.#clients.delete(client));
    await opened(socket);
    await client.welcomed();
    return client;
  }

  /** What the app broadcast to channels so far, in order. */
  get broadcasts(): readonly ReceivedFrame[] {
    return this.#broadcasts.inbox.all;
  }

  /**
   * Takes the first broadcast of `type` to `channel` (by `RealtimeService` or a handler) whose payload satisfies
   * `matcher`, waiting for it; fails with the broadcasts not taken yet.
   */
  async expectBroadcast<T = unknown>(
    channel: string,
    type: string,
    matcher?: PayloadMatcher<T>,
    options: { readonly timeoutMs?: number } = {},
  ): Promise<ReceivedFrame<T>> {
    return (await this.#broadcasts.inbox.take(
      (frame) => frame.channel === channel && frame.type === type && matchesPayload(frame.payload, matcher),
      `a ${type} broadcast to ${channel}${describeMatcher(matcher)}`,
      options.timeoutMs ?? this.timeoutMs,
    )) as ReceivedFrame<T>;
  }

  /** Closes every client, then what the kit opened: the application it created, or the port it listened on. */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    await Promise.all([...this.#clients].map((client) => client.close()));
    this.#broadcasts.stop();
    if (this.#ownsApp) {
      await this.app.close();
    } else if (this.#listeningServer !== undefined) {
      const server = this.#listeningServer;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}

/** Resolves when the handshake succeeded; rejects with the refusal's status and body otherwise. */
function opened(socket: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_request, response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON: kept as text.
        }
        const status = response.statusCode ?? 0;
        const message = (body as { message?: unknown } | null)?.message;
        reject(
          new RealtimeTestError(
            'HANDSHAKE_REFUSED',
            `the handshake was refused with HTTP ${status}${typeof message === 'string' ? `: ${message}` : ''}`,
            body,
            status,
          ),
        );
        socket.terminate();
      });
    });
    socket.once('error', (error) => reject(error));
  });
}
