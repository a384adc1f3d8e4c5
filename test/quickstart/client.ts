// Any WebSocket client speaks the protocol: the browser's, or `ws` in Node.
import { WebSocket } from 'ws';

export function joinLobby(baseUrl: string, token: string): WebSocket {
  const socket = new WebSocket(`${baseUrl}/realtime?token=${token}`, 'realtime.v1');
  socket.on('open', () => {
    socket.send(JSON.stringify({ type: 'subscribe', channel: 'room:lobby', id: 1 }));
    socket.send(JSON.stringify({ type: 'chat:group', channel: 'room:lobby', payload: { text: 'hi' }, id: 2 }));
  });
  // system:welcome, subscribed (replyTo 1), chat:group from the room, ack (replyTo 2, payload { id })
  socket.on('message', (data: Buffer) => console.log(JSON.parse(data.toString())));
  return socket;
}
