import { JwtService } from '@nestjs/jwt';
import { pack, unpack } from 'msgpackr';
import { io, type Socket } from 'socket.io-client';
import { WebSocket } from 'ws';
import { BENCH_SECRET } from '../bench-secret.js';
import type { Target } from './targets.js';

/** One benchmark client, whatever the server: requests resolve on their ack. */
export interface BenchClient {
  subscribe(channel: string): Promise<void>;
  publish(channel: string, payload: { text: string; t: number }): Promise<void>;
  echo(n: number): Promise<void>;
  /** Called for every channel message; `sentAt` reads the publish time (parsing the frame only when called). */
  onDelivery(listener: (sentAt: () => number) => void): void;
  close(): void;
}

const jwt = new JwtService({ secret: BENCH_SECRET });
const tokens = new Map<string, string>();

/** A user's token, signed once: signing is the load generator's work, kept out of timed windows. */
export function tokenFor(user: string): string {
  let token = tokens.get(user);
  if (token === undefined) {
    token = jwt.sign({ sub: user });
    tokens.set(user, token);
  }
  return token;
}

export async function connectClient(target: Target, port: number, user: string): Promise<BenchClient> {
  return target.protocol === 'sio' ? connectSocketIo(port) : connectWebSocket(target, port, user);
}

async function connectWebSocket(target: Target, port: number, user: string): Promise<BenchClient> {
  const url = new URL(target.path, `ws://127.0.0.1:${port}`);
  if (target.authenticated) {
    url.searchParams.set('token', tokenFor(user));
  }
  const msgpack = target.protocol === 'msgpack';
  const socket = new WebSocket(url, msgpack ? 'realtime.v1.msgpack' : 'realtime.v1', {
    perMessageDeflate: target.deflate === true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const pending = new Map<number, () => void>();
  let sequence = 0;
  let delivery: ((sentAt: () => number) => void) | undefined;
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      const frame = unpack(data) as { type: string; replyTo?: number; payload?: { t: number } };
      if (frame.replyTo === undefined) {
        if (delivery !== undefined && frame.type === 'chat:group') {
          delivery(() => frame.payload!.t);
        }
        return;
      }
      pending.get(frame.replyTo)?.();
      pending.delete(frame.replyTo);
      return;
    }
    // Deliveries are the only frames without a replyTo: look before parsing, as a lean client would.
    const text = data.toString();
    const reply = text.indexOf('"replyTo":');
    if (reply === -1) {
      if (delivery !== undefined && text.includes('"chat:group"')) {
        delivery(() => (JSON.parse(text) as { payload: { t: number } }).payload.t);
      }
      return;
    }
    const id = Number.parseInt(text.slice(reply + 10), 10);
    pending.get(id)?.();
    pending.delete(id);
  });
  const request = (frame: Record<string, unknown>) =>
    new Promise<void>((resolve) => {
      const id = ++sequence;
      pending.set(id, resolve);
      socket.send(msgpack ? pack({ ...frame, id }) : JSON.stringify({ ...frame, id }));
    });
  return {
    subscribe: (channel) => request({ type: 'subscribe', channel }),
    publish: (channel, payload) => request({ type: 'chat:group', channel, payload }),
    echo: (n) => request({ type: 'echo', payload: { n } }),
    onDelivery: (listener) => (delivery = listener),
    close: () => socket.terminate(),
  };
}

async function connectSocketIo(port: number): Promise<BenchClient> {
  const socket: Socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return {
    subscribe: async (channel) => {
      await socket.emitWithAck('subscribe', channel);
    },
    publish: async (channel, payload) => {
      await socket.emitWithAck('chat:group', { channel, payload });
    },
    echo: async (n) => {
      await socket.emitWithAck('echo', { n });
    },
    onDelivery: (listener) => {
      socket.on('chat:group', (message: { payload: { t: number } }) => listener(() => message.payload.t));
    },
    close: () => {
      socket.disconnect();
    },
  };
}

/** Opens `count` clients, `concurrency` handshakes at a time; with several ports, spread over them in turn. */
export async function connectMany(
  target: Target,
  ports: number | readonly number[],
  count: number,
  concurrency: number,
): Promise<BenchClient[]> {
  const clients: BenchClient[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const port = typeof ports === 'number' ? ports : ports[index % ports.length];
      clients[index] = await connectClient(target, port, `user${index}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return clients;
}
