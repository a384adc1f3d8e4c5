import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { BATCH_TYPE, Channel, RealtimeModule, RealtimeService } from 'nestjs-realtime';
import { type TestApp, startApp } from '../support/create-app.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { TestClient } from '../support/test-client.js';

@Channel('room:{id}')
class RoomChannel {}

@Module({ imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId })], providers: [RoomChannel] })
class BatchingModule {}

describe('publishBatched', () => {
  let server: TestApp;
  let realtime: RealtimeService;

  beforeAll(async () => {
    server = await startApp(BatchingModule);
    realtime = server.app.get(RealtimeService);
  });

  afterAll(async () => {
    await server.app.close();
  });

  it('delivers a burst as one batch frame to the subscribers', async () => {
    const alice = await TestClient.connect(server.url, { token: 'alice' });
    await alice.subscribe('room:1');
    for (const emoji of ['👍', '🎉', '❤️']) {
      realtime.publishBatched(
        'room:1',
        'reactions',
        { type: 'reaction', payload: emoji },
        { windowMs: 20, name: 'reactions' },
      );
    }
    const batch = await alice.nextOfType(BATCH_TYPE);
    expect(batch).toMatchObject({
      channel: 'room:1',
      sender: null,
      payload: {
        name: 'reactions',
        messages: [
          { type: 'reaction', payload: '👍', sender: null },
          { type: 'reaction', payload: '🎉', sender: null },
          { type: 'reaction', payload: '❤️', sender: null },
        ],
      },
    });
    await alice.sync();
    expect(alice.pending((frame) => frame.type === 'reaction' || frame.type === BATCH_TYPE)).toEqual([]);
    await alice.close();
  });

  it('refuses bad arguments at once, naming them', () => {
    const message = { type: 'reaction' };
    expect(() => realtime.publishBatched('bad channel', 'k', message, { windowMs: 10 })).toThrow(
      'Invalid channel name',
    );
    expect(() => realtime.publishBatched('room:1', '', message, { windowMs: 10 })).toThrow('Invalid key ""');
    expect(() => realtime.publishBatched('room:1', 'k', { type: '' }, { windowMs: 10 })).toThrow('message type ""');
    expect(() => realtime.publishBatched('room:1', 'k', message, { windowMs: 0 })).toThrow('Invalid batch windowMs 0');
    expect(() => realtime.publishBatched('room:1', 'k', message, { windowMs: 10, name: 'a b' })).toThrow(
      'Invalid batch name "a b"',
    );
    expect(() =>
      realtime.publishBatched('room:1', 'k', message, { windowMs: 10, coalesce: 'first' as 'latest' }),
    ).toThrow('Invalid batch coalesce "first"');
    expect(realtime.cancelBatch('room:1', 'k')).toBe(false);
  });

  it('sends pending batches before connections close at shutdown', async () => {
    const app = await startApp(BatchingModule);
    const bob = await TestClient.connect(app.url, { token: 'bob' });
    await bob.subscribe('room:2');
    app.app.get(RealtimeService).publishBatched('room:2', 'k', { type: 'tick' }, { windowMs: 60_000 });
    await app.app.close();
    expect((await bob.closed).code).toBe(1001);
    expect(bob.pending((frame) => frame.type === BATCH_TYPE)).toHaveLength(1);
  });
});
