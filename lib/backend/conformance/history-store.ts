import type { ConformanceRunner } from './runner.js';
import { type TwoNodes, eachTestOnTwoNodes } from './two-nodes.js';
import { type HistoryLimits, type HistoryStore, withOffset } from '../index.js';

/** Two nodes of one history backend (for an in-process store, the same store twice) and how to end them. */
export type HistoryBackend = TwoNodes<HistoryStore>;

const three: HistoryLimits = { size: 3, ttlMs: 3_600_000 };
const ten: HistoryLimits = { size: 10, ttlMs: 3_600_000 };
const frame = (text: string) => JSON.stringify({ type: 'chat:group', payload: text });

/** What every HistoryStore must do, written once and run against each implementation. */
export function describeHistoryStoreConformance(
  runner: ConformanceRunner,
  name: string,
  open: () => Promise<HistoryBackend>,
): void {
  const { describe, it, expect } = runner;
  describe(`${name} (HistoryStore conformance)`, () => {
    let a: HistoryStore;
    let b: HistoryStore;
    eachTestOnTwoNodes(runner, open, (nodes) => ([a, b] = nodes));

    async function fill(store: HistoryStore, channel: string, limits: HistoryLimits, count: number): Promise<void> {
      for (let i = 1; i <= count; i++) {
        await store.append(channel, frame(String(i)), limits);
      }
    }

    const offsets = async (store: HistoryStore, query: { since?: number; limit: number }, limits = ten) =>
      (await store.read('a', query, limits)).entries.map((entry) => entry.offset);

    it('gives each channel one strictly increasing offset sequence from 1, whichever node appends', async () => {
      const first = await a.append('a', frame('1'), ten);
      const second = await b.append('a', frame('2'), ten);
      const other = await a.append('b', frame('x'), ten);
      expect([first.offset, second.offset, other.offset]).toEqual([1, 2, 1]);
      expect(second.frame).toBe(withOffset(frame('2'), 2));
      expect(second.epoch).toBe(first.epoch);
      expect(other.epoch).not.toBe(first.epoch);
    });

    it('keeps at most `size` messages, dropping the oldest, and returns the frames as delivered', async () => {
      await fill(a, 'a', three, 5);
      const page = await b.read('a', { limit: 10 }, three);
      expect(page.entries).toEqual([3, 4, 5].map((n) => ({ offset: n, frame: withOffset(frame(String(n)), n) })));
      expect(page.offset).toBe(5);
      expect(page.complete).toBe(true);
    });

    it('reads the newest `limit` without `since`, and what follows `since` with it', async () => {
      await fill(a, 'a', ten, 4);
      expect(await offsets(b, { limit: 2 })).toEqual([3, 4]);
      expect(await offsets(b, { since: 1, limit: 10 })).toEqual([2, 3, 4]);
      expect(await offsets(b, { since: 1, limit: 2 })).toEqual([2, 3]);
      expect(await offsets(b, { since: 4, limit: 10 })).toEqual([]);
    });

    it('says whether everything after `since` is still kept', async () => {
      await fill(a, 'a', three, 5);
      const complete = async (since: number) => (await b.read('a', { since, limit: 10 }, three)).complete;
      expect(await complete(2)).toBe(true); // 3, 4, 5 are kept
      expect(await complete(1)).toBe(false); // 2 was dropped
      expect(await complete(5)).toBe(true); // nothing missed
      expect(await complete(6)).toBe(false); // ahead of the channel
    });

    it('drops messages older than ttlMs: a client behind them is told it cannot recover', async () => {
      const short: HistoryLimits = { size: 10, ttlMs: 100 };
      const kept = await a.append('ttl', frame('1'), short);
      const expired = async () => {
        const page = await b.read('ttl', { since: 0, limit: 10 }, short);
        return page.entries.length === 0 ? page : undefined;
      };
      let page = await expired();
      const deadline = Date.now() + 5000;
      while (page === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        page = await expired();
      }
      // Either the same epoch with a gap, or a new epoch (the history is gone): never a silent "complete".
      expect(page !== undefined && (page.epoch !== kept.epoch || !page.complete)).toBe(true);
    });

    it('starts a channel at offset 0 and keeps the epoch it was read in for its first message', async () => {
      const read = await a.read('a', { limit: 1 }, ten);
      expect(read).toMatchObject({ offset: 0, entries: [], complete: true });
      expect((await b.read('a', { since: 0, limit: 1 }, ten)).complete).toBe(true);
      const appended = await b.append('a', frame('1'), ten);
      expect(appended.epoch).toBe(read.epoch);
    });
  });
}
