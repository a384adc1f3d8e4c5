import { describe, expect, it } from '@jest/globals';
import { type HistoryLimits, MemoryHistoryStore, withOffset } from 'nestjs-realtime';

const forever: HistoryLimits = { size: 3, ttlMs: undefined };
const frame = (text: string) => JSON.stringify({ type: 'chat:group', payload: text });

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

async function fill(store: MemoryHistoryStore, channel: string, limits: HistoryLimits, ...texts: string[]) {
  for (const text of texts) {
    await store.append(channel, frame(text), limits);
  }
}

describe('withOffset', () => {
  it('puts the offset first in the encoded envelope', () => {
    expect(withOffset('{"type":"x","payload":1}', 42)).toBe('{"offset":42,"type":"x","payload":1}');
    expect(JSON.parse(withOffset(frame('a'), 7))).toEqual({ offset: 7, type: 'chat:group', payload: 'a' });
  });
});

describe('MemoryHistoryStore', () => {
  it('gives each channel its own strictly increasing offsets, starting at 1', async () => {
    const store = new MemoryHistoryStore();
    const first = await store.append('a', frame('1'), forever);
    const second = await store.append('a', frame('2'), forever);
    const other = await store.append('b', frame('x'), forever);
    expect([first.offset, second.offset, other.offset]).toEqual([1, 2, 1]);
    expect(second.frame).toBe(withOffset(frame('2'), 2));
    expect(second.epoch).toBe(first.epoch);
    expect(other.epoch).not.toBe(first.epoch);
  });

  it('keeps at most `size` messages, dropping the oldest', async () => {
    const store = new MemoryHistoryStore();
    await fill(store, 'a', forever, '1', '2', '3', '4', '5');
    const page = await store.read('a', { limit: 10 }, forever);
    expect(page.entries.map((entry) => entry.offset)).toEqual([3, 4, 5]);
    expect(page.offset).toBe(5);
  });

  it('reads the newest `limit` without `since`, and what follows `since` with it', async () => {
    const store = new MemoryHistoryStore();
    const limits = { size: 10, ttlMs: undefined };
    await fill(store, 'a', limits, '1', '2', '3', '4');
    const offsets = async (query: { since?: number; limit: number }) =>
      (await store.read('a', query, limits)).entries.map((entry) => entry.offset);
    expect(await offsets({ limit: 2 })).toEqual([3, 4]);
    expect(await offsets({ since: 1, limit: 10 })).toEqual([2, 3, 4]);
    expect(await offsets({ since: 1, limit: 2 })).toEqual([2, 3]);
    expect(await offsets({ since: 4, limit: 10 })).toEqual([]);
  });

  it('says whether everything after `since` is still kept', async () => {
    const store = new MemoryHistoryStore();
    await fill(store, 'a', forever, '1', '2', '3', '4', '5');
    const complete = async (since: number) => (await store.read('a', { since, limit: 10 }, forever)).complete;
    expect(await complete(2)).toBe(true); // 3, 4, 5 are kept
    expect(await complete(1)).toBe(false); // 2 was dropped
    expect(await complete(5)).toBe(true); // nothing missed
    expect(await complete(6)).toBe(false); // ahead of the channel
  });

  it('drops messages older than ttlMs, and then cannot recover past them', async () => {
    const clock = manualClock();
    const store = new MemoryHistoryStore({ now: clock.now });
    const limits = { size: 10, ttlMs: 1000 };
    await fill(store, 'a', limits, '1', '2');
    clock.advance(600);
    await fill(store, 'a', limits, '3');
    clock.advance(500);
    const page = await store.read('a', { since: 0, limit: 10 }, limits);
    expect(page.entries.map((entry) => entry.offset)).toEqual([3]);
    expect(page.complete).toBe(false);
    expect((await store.read('a', { since: 2, limit: 10 }, limits)).complete).toBe(true);
    await store.close();
  });

  it('forgets a channel whose messages all expired once idle for ttlMs; it starts again in a new epoch', async () => {
    const clock = manualClock();
    const store = new MemoryHistoryStore({ now: clock.now });
    const limits = { size: 10, ttlMs: 1000 };
    const before = await store.append('a', frame('1'), limits);
    await store.append('kept', frame('1'), forever);
    clock.advance(999);
    store.sweep();
    expect(store.channelCount).toBe(2);
    clock.advance(1);
    store.sweep();
    expect(store.channelCount).toBe(1);
    const after = await store.append('a', frame('again'), limits);
    expect(after.offset).toBe(1);
    expect(after.epoch).not.toBe(before.epoch);
    await store.close();
  });

  it('has a new epoch in every store instance, as after a restart', async () => {
    const before = await new MemoryHistoryStore().read('a', { limit: 1 }, forever);
    const after = await new MemoryHistoryStore().read('a', { limit: 1 }, forever);
    expect(before.epoch).not.toBe(after.epoch);
    expect(before.offset).toBe(0);
  });

  it('keeps the epoch a channel was read in for its first message', async () => {
    const store = new MemoryHistoryStore();
    const read = await store.read('a', { limit: 1 }, forever);
    const appended = await store.append('a', frame('1'), forever);
    expect(appended.epoch).toBe(read.epoch);
  });
});
