// The baseline: a hand-written `ws` server doing the job of the benchmark (a map of channel to sockets, JSON parse,
// one `send` per member), with no authentication, routing layer or validation.
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { serveIpc } from './ipc.js';

interface Frame {
  type: string;
  id?: number;
  channel: string;
  payload?: unknown;
}

const channels = new Map<string, Set<WebSocket>>();
/**
 * RAW_PREFRAMED=1 (the floor of fan-out): each message is framed once and the same bytes written to every member's
 * socket, as a server that builds frames itself would; the default sends through `ws`, framing per member.
 */
const PREFRAMED = process.env.RAW_PREFRAMED === '1';

/** One unmasked, final text frame (RFC 6455 section 5.2), header and data in one buffer. */
function frameOnce(text: string): Buffer {
  const data = Buffer.from(text);
  const length = data.length;
  let header: Buffer;
  if (length < 126) {
    header = Buffer.from([0x81, length]);
  } else if (length < 65_536) {
    header = Buffer.from([0x81, 126, length >> 8, length & 0xff]);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, data]);
}

/** The socket under a `ws` WebSocket: what a pre-framed write goes to. */
function rawSocket(socket: WebSocket): Duplex {
  return (socket as unknown as { _socket: Duplex })._socket;
}
const wss = new WebSocketServer({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1', perMessageDeflate: false });

wss.on('connection', (socket) => {
  const joined = new Set<string>();
  socket.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as Frame;
    switch (frame.type) {
      case 'subscribe': {
        let members = channels.get(frame.channel);
        if (!members) {
          members = new Set();
          channels.set(frame.channel, members);
        }
        members.add(socket);
        joined.add(frame.channel);
        socket.send(JSON.stringify({ type: 'subscribed', channel: frame.channel, replyTo: frame.id }));
        return;
      }
      case 'chat:group': {
        const text = JSON.stringify({
          type: 'chat:group',
          channel: frame.channel,
          sender: 'publisher',
          timestamp: Date.now(),
          payload: frame.payload,
        });
        if (PREFRAMED) {
          const framed = frameOnce(text);
          for (const member of channels.get(frame.channel) ?? []) {
            rawSocket(member).write(framed);
          }
        } else {
          for (const member of channels.get(frame.channel) ?? []) {
            member.send(text);
          }
        }
        socket.send(JSON.stringify({ type: 'ack', replyTo: frame.id }));
        return;
      }
      case 'echo':
        socket.send(JSON.stringify({ type: 'ack', replyTo: frame.id, payload: frame.payload }));
        return;
    }
  });
  socket.on('close', () => {
    for (const channel of joined) {
      channels.get(channel)?.delete(socket);
    }
  });
});

wss.on('listening', () => serveIpc((wss.address() as { port: number }).port));
