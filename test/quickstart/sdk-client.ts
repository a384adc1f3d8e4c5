// The client SDK: reconnects, resubscription with recovery, and acks are handled for you.
import { RealtimeClient } from 'nestjs-realtime/client';
import { WebSocket } from 'ws'; // in a browser, leave WebSocket out: the browser's is used

export async function chatInLobby(baseUrl: string, token: string): Promise<RealtimeClient> {
  const client = new RealtimeClient(`${baseUrl}/realtime`, { token, WebSocket });
  client.on('state', ({ from, to }) => console.log(`${from} -> ${to}`));
  await client.connect();
  const lobby = client.subscribe('room:lobby');
  await lobby.ready;
  lobby.on('chat:group', (payload, message) => console.log(message.sender, payload));
  const ack = await client.request('chat:group', { text: 'hi' }, { channel: 'room:lobby' });
  console.log('acked', ack); // { id: 'm_...' }
  return client;
}
