import { afterEach, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { Channel, type RealtimeModuleOptions, RealtimeModule, RealtimeService } from 'nestjs-realtime';
import { appAroundSuite } from '../support/create-app.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { type Frame, TestClient } from '../support/test-client.js';
import { waitUntil } from '../support/wait-until.js';

@Channel('feed:{id}', { public: true, whispers: true })
class FeedChannel {}

const LIMIT = 256 * 1024;
const MESSAGE = 'x'.repeat(32 * 1024);
const isItem = (frame: Frame) => frame.type === 'item';
const seqOf = (frame: Frame) => (frame.payload as { seq: number }).seq;

const open: TestClient[] = [];

afterEach(async () => {
  for (const client of open.splice(0)) {
    client.resumeReading();
    await client.close();
  }
});

function appWith(options: RealtimeModuleOptions) {
  @Module({
    imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId, rateLimit: false, ...options })],
    providers: [FeedChannel],
  })
  class BackpressureModule {}
  const holder = appAroundSuite(BackpressureModule);
  const member = async (user: string, channel: string) => {
    const client = await TestClient.connect(holder.server.url, { token: user });
    open.push(client);
    await client.subscribe(channel);
    return client;
  };
  return {
    member,
    get server() {
      return holder.server;
    },
    get realtime(): RealtimeService {
      return holder.server.app.get(RealtimeService);
    },
  };
}

/**
 * Publishes 32 KiB items to the channel until `done()` (checked after each), letting I/O run between them so
 * readers keep reading. Resolves to how many were published and the most bytes ever queued for `watched`.
 */
async function publishUntil(
  realtime: RealtimeService,
  channel: string,
  watched: string,
  done: () => boolean,
): Promise<{ published: number; maxQueued: number }> {
  let published = 0;
  let maxQueued = 0;
  while (!done()) {
    if (published === 2000) {
      throw new Error('Published 64 MiB and the condition never held');
    }
    await realtime.broadcastToChannel(channel, { type: 'item', payload: { seq: ++published, data: MESSAGE } });
    maxQueued = Math.max(maxQueued, realtime.getConnection(watched)?.bufferedBytes ?? 0);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { published, maxQueued };
}

async function takeItems(client: TestClient, count: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let index = 0; index < count; index++) {
    seqs.push(seqOf(await client.next(isItem)));
  }
  return seqs;
}

const upTo = (count: number) => Array.from({ length: count }, (_, index) => index + 1);

describe('backpressure: the close policy (default)', () => {
  const app = appWith({ backpressure: { maxBufferedBytes: LIMIT } });

  it('closes a client that stops reading with 4000, never queueing much past the limit, and others get everything', async () => {
    const healthy = await app.member('alice', 'feed:close');
    const slow = await app.member('bob', 'feed:close');
    slow.stopReading();
    const before = app.realtime.stats().slowConsumers;
    const { published, maxQueued } = await publishUntil(
      app.realtime,
      'feed:close',
      slow.connectionId,
      () => app.realtime.stats().slowConsumers > before,
    );
    expect(maxQueued).toBeLessThanOrEqual(LIMIT + MESSAGE.length + 1024);
    expect(await takeItems(healthy, published)).toEqual(upTo(published));

    // Nothing more is written to it; once it reads again it gets what was queued, then the close.
    slow.resumeReading();
    expect(await slow.closed).toEqual({ code: 4000, reason: 'Slow consumer' });
    const received = slow.pending(isItem).map(seqOf);
    expect(received).toEqual(upTo(received.length));
    expect(received.length).toBeLessThan(published);
  });
});

describe('backpressure by messages, with a reason and a grace of its own', () => {
  const app = appWith({
    backpressure: {
      maxBufferedBytes: 64 * 1024 * 1024,
      maxBufferedMessages: 20,
      closeReason: 'Too slow for this feed',
      closeGraceMs: 60_000,
    },
  });

  it('closes a client with more than maxBufferedMessages queued, long before the byte limit, with closeReason', async () => {
    const slow = await app.member('bob', 'feed:count');
    slow.stopReading();
    const before = app.realtime.stats().slowConsumers;
    const { maxQueued } = await publishUntil(
      app.realtime,
      'feed:count',
      slow.connectionId,
      () => app.realtime.stats().slowConsumers > before,
    );
    expect(maxQueued).toBeLessThan(64 * 1024 * 1024);
    slow.resumeReading();
    expect(await slow.closed).toEqual({ code: 4000, reason: 'Too slow for this feed' });
  });

  it('lets a client that keeps up take a burst of many more messages in one turn', async () => {
    const reader = await app.member('carol', 'feed:burst');
    await Promise.all(
      upTo(200).map((seq) => app.realtime.broadcastToChannel('feed:burst', { type: 'item', payload: { seq } })),
    );
    expect(await takeItems(reader, 200)).toEqual(upTo(200));
    await reader.sync();
    expect(app.realtime.getConnection(reader.connectionId)).toBeDefined();
  });
});

describe('backpressure: a slow consumer that never reads its close', () => {
  const app = appWith({ backpressure: { maxBufferedBytes: LIMIT, closeGraceMs: 50 } });

  it('is cut once closeGraceMs has passed, not at the next heartbeat sweep', async () => {
    const slow = await app.member('dave', 'feed:grace');
    slow.stopReading();
    const before = app.realtime.stats().slowConsumers;
    await publishUntil(
      app.realtime,
      'feed:grace',
      slow.connectionId,
      () => app.realtime.stats().slowConsumers > before,
    );
    // The heartbeat sweeps every 25 s here: only the grace timer cuts it this soon.
    await expect(waitUntil(() => app.realtime.getConnection(slow.connectionId) === undefined, 10_000)).resolves.toBe(
      true,
    );
    slow.resumeReading();
    expect((await slow.closed).code).toBe(1006);
  });
});

describe('backpressure: the drop policy', () => {
  const app = appWith({ backpressure: { maxBufferedBytes: LIMIT, policy: 'drop' } });

  it('drops messages for a client that is behind, keeps it connected, and others get everything', async () => {
    const healthy = await app.member('alice', 'feed:drop');
    const slow = await app.member('bob', 'feed:drop');
    slow.stopReading();
    const before = app.realtime.stats().dropped;
    let extra = 0;
    const { published, maxQueued } = await publishUntil(
      app.realtime,
      'feed:drop',
      slow.connectionId,
      () => app.realtime.stats().dropped > before && ++extra > 20,
    );
    expect(maxQueued).toBeLessThanOrEqual(LIMIT + MESSAGE.length + 1024);
    expect(await takeItems(healthy, published)).toEqual(upTo(published));

    slow.resumeReading();
    await slow.sync();
    const received = slow.pending(isItem).map(seqOf);
    expect(received).toEqual(upTo(received.length));
    expect(received.length).toBeLessThan(published);
    expect(app.realtime.stats().droppedVolatile).toBe(0);
    // Caught up, it gets messages again.
    await app.realtime.broadcastToChannel('feed:drop', { type: 'item', payload: { seq: published + 1 } });
    expect(seqOf(await slow.next((frame) => isItem(frame) && seqOf(frame) === published + 1))).toBe(published + 1);
  });
});

describe('volatile messages', () => {
  const app = appWith({
    backpressure: { maxBufferedBytes: 64 * 1024 * 1024, policy: 'drop', volatileBufferedBytes: 64 * 1024 },
  });

  it('are dropped for a client that is behind, and delivered to the others', async () => {
    const healthy = await app.member('alice', 'feed:volatile');
    const slow = await app.member('bob', 'feed:volatile');
    slow.stopReading();
    const { published } = await publishUntil(
      app.realtime,
      'feed:volatile',
      slow.connectionId,
      () => (app.realtime.getConnection(slow.connectionId)?.bufferedBytes ?? 0) > 64 * 1024,
    );
    await app.realtime.broadcastToChannel('feed:volatile', { type: 'cursor', payload: 1 }, { volatile: true });
    healthy.send({ type: 'whisper', channel: 'feed:volatile', event: 'typing' });
    expect((await healthy.nextOfType('cursor')).payload).toBe(1);

    slow.resumeReading();
    await slow.sync();
    expect(slow.pending((frame) => frame.type === 'cursor' || frame.type === 'whisper')).toEqual([]);
    expect(app.realtime.stats()).toMatchObject({ droppedVolatile: 2, dropped: 0 });
    // Everything that was not volatile arrived.
    expect(slow.pending(isItem).map(seqOf)).toEqual(upTo(published));
  });

  it('are delivered to a client that keeps up, and never kept in history', async () => {
    const alice = await app.member('alice', 'feed:fresh');
    const { envelope: sent } = await app.realtime.broadcastToChannel(
      'feed:fresh',
      { type: 'cursor', payload: 2 },
      { volatile: true },
    );
    expect((await alice.nextOfType('cursor')).payload).toBe(2);
    expect(sent.offset).toBeUndefined();
  });
});
