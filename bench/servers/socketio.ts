// Socket.IO 4.8 doing the same job with rooms: `join`, `io.to(room).emit`, acks by callback.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { serveIpc } from './ipc.js';

type Ack = (reply: unknown) => void;

const http = createServer();
const io = new Server(http, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });

io.on('connection', (socket) => {
  socket.on('subscribe', (channel: string, ack?: Ack) => {
    void socket.join(channel);
    ack?.({ channel });
  });
  socket.on('chat:group', (frame: { channel: string; payload: unknown }, ack?: Ack) => {
    io.to(frame.channel).emit('chat:group', {
      channel: frame.channel,
      sender: 'publisher',
      timestamp: Date.now(),
      payload: frame.payload,
    });
    ack?.({});
  });
  socket.on('echo', (payload: unknown, ack?: Ack) => ack?.(payload));
});

http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => serveIpc((http.address() as { port: number }).port));
