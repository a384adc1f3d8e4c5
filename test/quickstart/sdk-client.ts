// Node or a browser: the client SDK reconnects, resubscribes with recovery, and matches acks to requests.
import { RealtimeClient } from 'nestjs-realtime/client';
import { WebSocket } from 'ws'; // in a browser, leave WebSocket out: the browser's is used

export async function chatInLobby(baseUrl: string): Promise<RealtimeClient> {
  const client = new RealtimeClient(`${baseUrl.replace(/^http/, 'ws')}/realtime`, {
    WebSocket,
    // Asked on every connect and before the token expires (refreshed in band, without reconnecting).
    getToken: async () => {
      const response = await fetch(`${baseUrl}/token?user=alice`);
      return ((await response.json()) as { token: string }).token;
    },
  });
  client.on('state', ({ from, to }) => console.log(`${from} -> ${to}`));
  await client.connect();
  const lobby = client.subscribe('room:lobby');
  await lobby.ready;
  lobby.on('chat:group', (payload, message) => console.log(message.sender, payload));
  const ack = await client.request('chat:group', { text: 'hi' }, { channel: 'room:lobby' });
  console.log('acked', ack);
  return client;
}
