import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { WebSocket, WebSocketServer } from 'ws';
import { encodeFrame } from '../../lib/connection/outbound-frame.js';
import { PREBUILT_FRAMES, idleFrameSender } from '../../lib/internals/ws-internals.js';

/**
 * The contract the library relies on below `ws`'s public API (lib/internals/ws-internals.ts). When a `ws` version
 * breaks it, these fail and name what changed, instead of deliveries silently slowing down or reordering.
 */
describe('ws internals (the installed ws keeps what the write fast path relies on)', () => {
  const closers: (() => void)[] = [];

  afterEach(() => {
    for (const close of closers.splice(0)) {
      close();
    }
  });

  /** A server socket and a client over loopback; the client collects every text it receives. */
  async function pair(perMessageDeflate: boolean) {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
    await once(wss, 'listening');
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate });
    const [server] = (await once(wss, 'connection')) as [WebSocket];
    await once(client, 'open');
    const received: string[] = [];
    client.on('message', (data: Buffer) => received.push(data.toString()));
    closers.push(() => {
      client.terminate();
      wss.close();
    });
    return { server, client, received };
  }

  /** Writes like `Connection` does: the pre-built frame through the idle sender, else `send`. */
  function write(socket: WebSocket, text: string): 'prebuilt' | 'send' {
    const sender = idleFrameSender(socket);
    if (sender === undefined) {
      socket.send(text);
      return 'send';
    }
    sender._socket.write(encodeFrame(text));
    return 'prebuilt';
  }

  async function receivedCount(client: WebSocket, received: string[], count: number): Promise<void> {
    while (received.length < count) {
      await once(client, 'message');
    }
  }

  it('exports the Sender with sendFrame, so pre-built frames are on', () => {
    expect(PREBUILT_FRAMES).toBe(true);
  });

  it('gives an idle sender with a corkable net socket, and the fast path delivers a whole frame', async () => {
    const { server, client, received } = await pair(false);
    const sender = idleFrameSender(server);
    expect(sender).toBeDefined();
    expect(typeof sender?._socket.cork).toBe('function');
    expect(typeof sender?._socket.uncork).toBe('function');
    expect(sender?._socket).toBe((server as unknown as { _socket: unknown })._socket);
    expect(write(server, 'héllo')).toBe('prebuilt');
    await receivedCount(client, received, 1);
    expect(received).toEqual(['héllo']);
  });

  it('keeps the order of fast-path writes and ws sends without permessage-deflate', async () => {
    const { server, client, received } = await pair(false);
    const sent: string[] = [];
    for (let i = 0; i < 200; i++) {
      const text = `m${i}`;
      sent.push(text);
      if (i % 3 === 0) {
        server.send(text);
      } else {
        expect(write(server, text)).toBe('prebuilt');
      }
    }
    await receivedCount(client, received, sent.length);
    expect(received).toEqual(sent);
  });

  it('reports the sender busy while ws compresses, so writes queue behind it in order with permessage-deflate', async () => {
    const { server, client, received } = await pair(true);
    expect(server.extensions).toContain('permessage-deflate');
    const sent: string[] = [];
    const ways = new Set<string>();
    for (let i = 0; i < 200; i++) {
      // A compressible text over the threshold: ws deflates it asynchronously, and its sender is busy meanwhile.
      const text = `${i}:${'x'.repeat(2048)}`;
      sent.push(text);
      if (i % 2 === 0) {
        server.send(text);
      } else {
        ways.add(write(server, text));
      }
    }
    // Right after a compressed send the sender queued it: the fast path must have stepped aside.
    expect(ways.has('send')).toBe(true);
    await receivedCount(client, received, sent.length);
    expect(received).toEqual(sent);
  });
});
