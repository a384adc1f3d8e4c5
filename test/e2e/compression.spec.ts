import { afterEach, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { Channel, RealtimeModule, type RealtimeModuleOptions, RealtimeService } from 'nestjs-realtime';
import { appAroundSuite } from '../support/create-app.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { TestClient } from '../support/test-client.js';

@Channel('docs:{id}', { public: true, history: 5 })
class DocsChannel {}

/** Highly compressible: 40 KB of repeated text. */
const REPETITIVE = 'the same words again and again, '.repeat(1280);

const open: TestClient[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close()));
});

function appWith(options: RealtimeModuleOptions) {
  @Module({
    imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId, ...options })],
    providers: [DocsChannel],
  })
  class CompressionModule {}
  const holder = appAroundSuite(CompressionModule);
  return {
    async connect(user: string, perMessageDeflate = true): Promise<TestClient> {
      const client = await TestClient.connect(holder.server.url, { token: user, perMessageDeflate });
      open.push(client);
      return client;
    },
    get realtime(): RealtimeService {
      return holder.server.app.get(RealtimeService);
    },
  };
}

/** Bytes the client's TCP socket read while `action` ran and the frame it waited for arrived. */
async function bytesOnTheWire(client: TestClient, action: () => Promise<unknown>, type: string): Promise<number> {
  const socket = (client.socket as unknown as { _socket: { bytesRead: number } })._socket;
  const before = socket.bytesRead;
  await action();
  await client.nextOfType(type);
  return socket.bytesRead - before;
}

describe('permessage-deflate, off by default', () => {
  const app = appWith({});

  it('is not negotiated even when the client offers it', async () => {
    const client = await app.connect('alice');
    expect(client.socket.extensions).toBe('');
  });
});

describe('permessage-deflate with settings', () => {
  const app = appWith({
    perMessageDeflate: { threshold: 1024, level: 9, serverMaxWindowBits: 10, clientMaxWindowBits: 11 },
  });

  it('is negotiated with the window and without context takeover by default', async () => {
    const client = await app.connect('alice');
    expect(client.socket.extensions).toContain('permessage-deflate');
    expect(client.negotiatedExtensions).toContain('server_no_context_takeover');
    expect(client.negotiatedExtensions).toContain('client_no_context_takeover');
    expect(client.negotiatedExtensions).toContain('server_max_window_bits=10');
    expect(client.negotiatedExtensions).toContain('client_max_window_bits=11');
  });

  it('compresses messages past the threshold, and a send with compress: false skips it', async () => {
    const client = await app.connect('bob');
    await client.subscribe('docs:1');
    const message = { type: 'doc', payload: { text: REPETITIVE } };
    const compressed = await bytesOnTheWire(client, () => app.realtime.broadcastToChannel('docs:1', message), 'doc');
    expect(compressed).toBeLessThan(REPETITIVE.length / 10);
    const raw = await bytesOnTheWire(
      client,
      () => app.realtime.broadcastToChannel('docs:1', message, { compress: false }),
      'doc',
    );
    expect(raw).toBeGreaterThan(REPETITIVE.length);
    const direct = await bytesOnTheWire(
      client,
      () => app.realtime.sendToUser('bob', message, { compress: false }),
      'doc',
    );
    expect(direct).toBeGreaterThan(REPETITIVE.length);
    // Kept in history and replayed, the opt-out does not matter: history is read back as any reply.
    const small = { type: 'note', payload: 'x'.repeat(500) };
    const belowThreshold = await bytesOnTheWire(client, () => app.realtime.sendToUser('bob', small), 'note');
    expect(belowThreshold).toBeGreaterThan(500);
  });

  it('leaves clients that did not offer it uncompressed, in the same broadcast', async () => {
    const plain = await app.connect('carol', false);
    const deflating = await app.connect('dave');
    expect(plain.socket.extensions).toBe('');
    await Promise.all([plain.subscribe('docs:2'), deflating.subscribe('docs:2')]);
    const message = { type: 'doc', payload: { text: REPETITIVE } };
    const [plainBytes, deflatedBytes] = await Promise.all([
      bytesOnTheWire(plain, () => app.realtime.broadcastToChannel('docs:2', message), 'doc'),
      bytesOnTheWire(deflating, () => Promise.resolve(), 'doc'),
    ]);
    expect(plainBytes).toBeGreaterThan(REPETITIVE.length);
    expect(deflatedBytes).toBeLessThan(REPETITIVE.length / 10);
  });
});

describe('permessage-deflate with context takeover', () => {
  const app = appWith({ perMessageDeflate: { contextTakeover: true } });

  it('negotiates without the no-context-takeover parameters', async () => {
    const client = await app.connect('erin');
    expect(client.socket.extensions).toContain('permessage-deflate');
    expect(client.negotiatedExtensions).not.toContain('no_context_takeover');
  });
});
