import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { DEFAULT_PRESENCE } from '../../lib/channels/channel-options.js';
import { PresenceDiffs } from '../../lib/presence/presence-diffs.js';
import type { PresenceDiffPayload } from '../../lib/protocol/frames.js';

const member = (userId: string) => ({ userId, info: { name: userId } });

describe('PresenceDiffs', () => {
  let count: number;
  let sent: { channel: string; diff: PresenceDiffPayload }[];
  let diffs: PresenceDiffs;

  beforeEach(() => {
    jest.useFakeTimers();
    count = 0;
    sent = [];
    diffs = new PresenceDiffs(
      {
        count: () => Promise.resolve(count),
        publish: (channel, diff) => {
          sent.push({ channel, diff });
          return Promise.resolve();
        },
        failed: (_channel, error) => {
          throw error;
        },
      },
      () => Date.now(),
    );
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('sends the changes of one window as one diff, each user once with its last change', async () => {
    count = 3;
    diffs.change('room:1', member('a'), false, DEFAULT_PRESENCE);
    diffs.change('room:1', member('b'), false, DEFAULT_PRESENCE);
    diffs.change('room:1', member('c'), true, DEFAULT_PRESENCE);
    diffs.change('room:1', member('c'), false, DEFAULT_PRESENCE); // left, then came back: a join
    await jest.advanceTimersByTimeAsync(DEFAULT_PRESENCE.diffIntervalMs - 1);
    expect(sent).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([
      { channel: 'room:1', diff: { joins: [member('a'), member('b'), member('c')], leaves: [], count: 3 } },
    ]);
  });

  it('sends nothing for a user who joined and left within the window', async () => {
    diffs.change('room:2', member('a'), false, DEFAULT_PRESENCE);
    diffs.change('room:2', member('a'), true, DEFAULT_PRESENCE);
    await jest.advanceTimersByTimeAsync(10 * DEFAULT_PRESENCE.countIntervalMs);
    expect(sent).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('sends counts only above maxAnnounced, at most once per countIntervalMs', async () => {
    const settings = { ...DEFAULT_PRESENCE, maxAnnounced: 1 };
    count = 2;
    diffs.change('room:3', member('a'), false, settings);
    await jest.advanceTimersByTimeAsync(settings.diffIntervalMs);
    expect(sent.map(({ diff }) => diff)).toEqual([{ count: 2 }]);
    count = 3;
    diffs.change('room:3', member('b'), false, settings);
    await jest.advanceTimersByTimeAsync(settings.countIntervalMs - 1);
    expect(sent).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(sent.map(({ diff }) => diff)).toEqual([{ count: 2 }, { count: 3 }]);
    // Once the pacing no longer matters, nothing is kept for the channel.
    await jest.advanceTimersByTimeAsync(settings.countIntervalMs);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('sends every waiting diff at once on flushAll, and keeps nothing', async () => {
    count = 1;
    diffs.change('room:4', member('a'), false, DEFAULT_PRESENCE);
    diffs.change('room:5', member('b'), true, DEFAULT_PRESENCE);
    await diffs.flushAll();
    expect(sent).toEqual([
      { channel: 'room:4', diff: { joins: [member('a')], leaves: [], count: 1 } },
      { channel: 'room:5', diff: { joins: [], leaves: [member('b')], count: 1 } },
    ]);
    expect(jest.getTimerCount()).toBe(0);
  });
});
