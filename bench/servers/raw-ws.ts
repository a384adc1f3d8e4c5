// The baseline: a hand-written `ws` server doing the job of the benchmark (a map of channel to sockets, JSON parse,
// one `send` per member), with no authentication, routing layer or validation.
import { type WebSocket, WebSocketServer } from 'ws';
import { serveIpc } from './ipc.js';

interface Frame {
  type: string;
  id?: number;
  channel: string;
  payload?: unknown;
}

const channels = new Map<string, Set<WebSocket>>();
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
        for (const member of channels.get(frame.channel) ?? []) {
          member.send(text);
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
