import { describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BATCH_TYPE, Channel, RealtimeModule, RealtimeService } from 'nestjs-realtime';
import { RealtimeTesting } from 'nestjs-realtime/testing';
import { tokenIsUserId } from '../support/fixtures.js';
import { TRANSPORTS, kitAroundSuite } from '../support/kit.js';

@Channel('room:{id}', { public: true })
class RoomChannel {}

@Module({ imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId })], providers: [RoomChannel] })
class BatchingModule {}

describe.each(TRANSPORTS)('publishBatched, %s', (transport) => {
  const kit = kitAroundSuite(BatchingModule, transport);
  const realtime = () => kit.rt.app.get(RealtimeService);

  it('delivers a burst as one batch frame to the subscribers', async () => {
    const alice = await kit.rt.connect({ userId: 'alice' });
    await alice.subscribe('room:1');
    for (const emoji of ['👍', '🎉', '❤️']) {
      realtime().publishBatched(
        'room:1',
        'reactions',
        { type: 'reaction', payload: emoji },
        { windowMs: 20, name: 'reactions' },
      );
    }
    const batch = await alice.expectMessage(BATCH_TYPE);
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
    await alice.expectNoMessage('reaction');
    await alice.expectNoMessage(BATCH_TYPE);
  });

  it('refuses bad arguments at once, naming them', () => {
    const message = { type: 'reaction' };
    const service = realtime();
    expect(() => service.publishBatched('bad channel', 'k', message, { windowMs: 10 })).toThrow('Invalid channel name');
    expect(() => service.publishBatched('room:1', '', message, { windowMs: 10 })).toThrow('Invalid key ""');
    expect(() => service.publishBatched('room:1', 'k', { type: '' }, { windowMs: 10 })).toThrow('message type ""');
    expect(() => service.publishBatched('room:1', 'k', message, { windowMs: 0 })).toThrow('Invalid batch windowMs 0');
    expect(() => service.publishBatched('room:1', 'k', message, { windowMs: 10, name: 'a b' })).toThrow(
      'Invalid batch name "a b"',
    );
    expect(() =>
      service.publishBatched('room:1', 'k', message, { windowMs: 10, coalesce: 'first' as 'latest' }),
    ).toThrow('Invalid batch coalesce "first"');
    expect(service.cancelBatch('room:1', 'k')).toBe(false);
  });

  it('sends pending batches before connections close at shutdown', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [BatchingModule] }).compile();
    const rt = await RealtimeTesting.create(moduleRef, { transport });
    const bob = await rt.connect({ userId: 'bob' });
    await bob.subscribe('room:2');
    rt.app.get(RealtimeService).publishBatched('room:2', 'k', { type: 'tick' }, { windowMs: 60_000 });
    await rt.app.close();
    expect((await bob.closed).code).toBe(1001);
    expect(bob.received.filter((frame) => frame.type === BATCH_TYPE)).toHaveLength(1);
  });
});
