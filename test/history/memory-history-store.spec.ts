import { describe, expect, it } from '@jest/globals';
import { MemoryHistoryStore } from 'nestjs-realtime';
import { type HistoryLimits, withOffset } from 'nestjs-realtime/backend';

const forever: HistoryLimits = { size: 3, ttlMs: 3_600_000 };
const hour: HistoryLimits = { size: 10, ttlMs: 3_600_000 };
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

// What every history store does is in test/conformance; this is what only the in-memory one does.
describe('MemoryHistoryStore', () => {
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

  it('keeps at most maxChannels, forgetting the least recently used: its next use is a new epoch', async () => {
    const store = new MemoryHistoryStore({ maxChannels: 2 });
    const a = await store.append('a', frame('1'), hour);
    await store.append('b', frame('1'), hour);
    await store.read('a', { limit: 1 }, hour); // a is now more recent than b
    await store.append('c', frame('1'), hour);
    expect(store.channelCount).toBe(2);
    const stillA = await store.read('a', { since: 0, limit: 10 }, hour);
    expect(stillA).toMatchObject({ epoch: a.epoch, offset: 1, complete: true });
    const b = await store.read('b', { since: 1, limit: 10 }, hour);
    expect(b.offset).toBe(0);
    expect(store.channelCount).toBe(2);
    await store.close();
  });

  it('keeps at most maxBytes of frames in all, forgetting the least recently used channels first', async () => {
    const store = new MemoryHistoryStore({ maxBytes: 1100 });
    const big = 'x'.repeat(300);
    for (const channel of ['a', 'b', 'c', 'd']) {
      await store.append(channel, frame(big), hour);
    }
    expect(store.bytes).toBeLessThanOrEqual(1100);
    expect(store.channelCount).toBe(3);
    expect((await store.read('a', { limit: 10 }, hour)).offset).toBe(0); // forgotten
    expect((await store.read('d', { limit: 10 }, hour)).entries).toHaveLength(1);
    await store.close();
  });

  it('counts what it holds down as messages are pushed out, expire or channels are forgotten', async () => {
    const clock = manualClock();
    const store = new MemoryHistoryStore({ now: clock.now });
    const limits = { size: 2, ttlMs: 1000 };
    await fill(store, 'a', limits, '1', '2', '3');
    const two = store.bytes;
    expect(two).toBe(2 * withOffset(frame('1'), 1).length);
    clock.advance(1000);
    store.sweep();
    expect(store.bytes).toBe(0);
    expect(store.channelCount).toBe(0);
    await store.close();
  });

  it('refuses caps that are not positive integers, naming them', () => {
    expect(() => new MemoryHistoryStore({ maxChannels: 0 })).toThrow('"maxChannels": expected a positive integer');
    expect(() => new MemoryHistoryStore({ maxBytes: 1.5 })).toThrow('"maxBytes"');
  });

  it('has a new epoch in every store instance, as after a restart', async () => {
    const before = await new MemoryHistoryStore().read('a', { limit: 1 }, forever);
    const after = await new MemoryHistoryStore().read('a', { limit: 1 }, forever);
    expect(before.epoch).not.toBe(after.epoch);
    expect(before.offset).toBe(0);
  });
});
