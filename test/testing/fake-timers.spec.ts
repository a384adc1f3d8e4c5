import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Channel, RealtimeModule, RealtimeService } from 'nestjs-realtime';
import { RealtimeTesting, type RealtimeTransport } from 'nestjs-realtime/testing';

@Channel('feed:{id}', { history: { size: 10, ttlMs: 60_000 } })
class FeedChannel {
  canJoin(): boolean {
    return true;
  }
}

@Module({
  imports: [
    RealtimeModule.forRoot({
      path: '/live',
      tokenExpiryWarningMs: 30_000,
      heartbeatIntervalMs: 10_000,
      heartbeatTimeoutMs: 25_000,
    }),
  ],
  providers: [FeedChannel],
})
class FeedModule {}

/**
 * The test drives the server's clocks: Jest's fake timers, with the process's own queues (`nextTick`,
 * `setImmediate`, microtasks) left real so streams and sockets still move. The kit's timeouts stay real.
 */
describe.each(['in-process', 'socket'] as RealtimeTransport[])('the testing kit with fake timers, %s', (transport) => {
  let rt: RealtimeTesting;

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const moduleRef = await Test.createTestingModule({ imports: [FeedModule] }).compile();
    rt = await RealtimeTesting.create(moduleRef, { transport });
  });

  afterEach(async () => {
    await rt.close();
    jest.useRealTimers();
  });

  it('sends a batch when the test moves the clock past its window', async () => {
    const alice = await rt.connect({ userId: 'alice' });
    await alice.subscribe('feed:1');
    const realtime = rt.app.get(RealtimeService);
    realtime.publishBatched('feed:1', 'likes', { type: 'like', payload: { n: 1 } }, { windowMs: 5_000 });
    realtime.publishBatched('feed:1', 'likes', { type: 'like', payload: { n: 2 } }, { windowMs: 5_000 });
    await alice.expectNoMessage('batch');
    await jest.advanceTimersByTimeAsync(5_000);
    const batch = await alice.expectMessage<{ messages: unknown[] }>('batch');
    expect(batch.payload?.messages).toHaveLength(2);
  });

  it('warns a connection before its credential expires, then closes it with 4007', async () => {
    const alice = await rt.connect({ userId: 'alice', expiresAt: Date.now() + 60_000 });
    await alice.expectNoMessage('system:token_expiring');
    await jest.advanceTimersByTimeAsync(30_000);
    await alice.expectMessage('system:token_expiring');
    await jest.advanceTimersByTimeAsync(30_000);
    await alice.expectClosed(4007);
  });

  it('closes a connection that stops answering heartbeats with 4001, and keeps one that answers', async () => {
    const alive = await rt.connect({ userId: 'alice' });
    const ghost = await rt.connect({ userId: 'ghost', autoPong: false });
    for (let sweep = 0; sweep < 3; sweep++) {
      await jest.advanceTimersByTimeAsync(10_000);
      // A round trip after each sweep: the server has read the live client's pong before the clock moves on.
      await alive.expectNoMessage('error');
    }
    await ghost.expectClosed(4001);
    await expect(alive.request('nope')).rejects.toMatchObject({ code: 'UNKNOWN_TYPE' });
  });

  it('forgets kept messages once their time to live has passed', async () => {
    const alice = await rt.connect({ userId: 'alice' });
    await alice.subscribe('feed:2');
    await rt.app.get(RealtimeService).broadcastToChannel('feed:2', { type: 'post', payload: { n: 1 } });
    expect((await alice.history('feed:2')).messages).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(60_001);
    expect((await alice.history('feed:2')).messages).toHaveLength(0);
  });
});
