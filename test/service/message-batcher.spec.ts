import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { MAX_BATCH_MESSAGES, MessageBatcher, type BatchPayload } from '../../lib/service/message-batcher.js';

describe('MessageBatcher (fake timers)', () => {
  let sent: { channel: string; batch: BatchPayload }[];
  let batcher: MessageBatcher;

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    sent = [];
    batcher = new MessageBatcher((channel, batch) => sent.push({ channel, batch }));
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('collects messages per (channel, key) for the window from the first one, then sends one batch', () => {
    batcher.add('room:1', 'reactions', { type: 'reaction', payload: '👍', sender: 'alice' }, { windowMs: 100 });
    jest.advanceTimersByTime(60);
    batcher.add('room:1', 'reactions', { type: 'reaction', payload: '🎉' }, { windowMs: 100 });
    batcher.add('room:2', 'reactions', { type: 'reaction', payload: 'x' }, { windowMs: 100 });
    jest.advanceTimersByTime(39);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([
      {
        channel: 'room:1',
        batch: {
          name: 'reaction',
          messages: [
            { type: 'reaction', payload: '👍', sender: 'alice', timestamp: 1_000_000 },
            { type: 'reaction', payload: '🎉', sender: null, timestamp: 1_000_060 },
          ],
        },
      },
    ]);
    jest.advanceTimersByTime(60);
    expect(sent.map((entry) => entry.channel)).toEqual(['room:1', 'room:2']);
    expect(batcher.size).toBe(0);
  });

  it('starts a new window after a batch is sent', () => {
    batcher.add('room:1', 'k', { type: 'a' }, { windowMs: 50, name: 'ticks' });
    jest.advanceTimersByTime(50);
    batcher.add('room:1', 'k', { type: 'b' }, { windowMs: 50, name: 'ticks' });
    jest.advanceTimersByTime(50);
    expect(sent.map((entry) => entry.batch)).toEqual([
      { name: 'ticks', messages: [expect.objectContaining({ type: 'a' })] },
      { name: 'ticks', messages: [expect.objectContaining({ type: 'b' })] },
    ]);
  });

  it("keeps only the latest message per key with coalesce: 'latest'", () => {
    for (const x of [1, 2, 3]) {
      batcher.add('room:1', 'cursor:alice', { type: 'cursor', payload: { x } }, { windowMs: 30, coalesce: 'latest' });
    }
    batcher.add('room:1', 'cursor:bob', { type: 'cursor', payload: { x: 9 } }, { windowMs: 30, coalesce: 'latest' });
    jest.advanceTimersByTime(30);
    expect(sent.map((entry) => entry.batch.messages.map((message) => message.payload))).toEqual([
      [{ x: 3 }],
      [{ x: 9 }],
    ]);
  });

  it('cancels a pending batch: nothing is sent and the timer is gone', () => {
    batcher.add('room:1', 'k', { type: 'a' }, { windowMs: 50 });
    expect(batcher.cancel('room:1', 'k')).toBe(true);
    expect(batcher.cancel('room:1', 'k')).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(100);
    expect(sent).toEqual([]);
  });

  it(`sends at once when a batch reaches ${MAX_BATCH_MESSAGES} messages`, () => {
    for (let index = 0; index < MAX_BATCH_MESSAGES + 1; index++) {
      batcher.add('room:1', 'k', { type: 'a', payload: index }, { windowMs: 1000 });
    }
    expect(sent).toHaveLength(1);
    expect(sent[0].batch.messages).toHaveLength(MAX_BATCH_MESSAGES);
    jest.advanceTimersByTime(1000);
    expect(sent[1].batch.messages.map((message) => message.payload)).toEqual([MAX_BATCH_MESSAGES]);
  });

  it('flushes every pending batch on demand (shutdown)', () => {
    batcher.add('room:1', 'a', { type: 'a' }, { windowMs: 1000 });
    batcher.add('room:2', 'b', { type: 'b' }, { windowMs: 1000 });
    batcher.flushAll();
    expect(sent.map((entry) => entry.channel)).toEqual(['room:1', 'room:2']);
    expect(jest.getTimerCount()).toBe(0);
  });
});
