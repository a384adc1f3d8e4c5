import type { ConformanceRunner } from './runner.js';
import { type TwoNodes, eachTestOnTwoNodes } from './two-nodes.js';
import type { ConnectionCounter } from '../index.js';

/** Two nodes of one counting backend (for an in-process counter, the same counter twice) and how to end them. */
export type CounterBackend = TwoNodes<ConnectionCounter>;

/** What every ConnectionCounter must do, written once and run against each implementation. */
export function describeConnectionCounterConformance(
  runner: ConformanceRunner,
  name: string,
  open: () => Promise<CounterBackend>,
): void {
  const { describe, it, expect } = runner;
  describe(`${name} (ConnectionCounter conformance)`, () => {
    let a: ConnectionCounter;
    let b: ConnectionCounter;
    eachTestOnTwoNodes(runner, open, (nodes) => ([a, b] = nodes));

    it('counts connections in total and per user on every node, anonymous ones in the total only', async () => {
      expect(await a.add('n1.c1', 'alice')).toBe(true);
      expect(await b.add('n2.c1', 'alice')).toBe(true);
      expect(await b.add('n2.c2', 'bob')).toBe(true);
      expect(await a.add('n1.c2', null)).toBe(true);
      expect(await a.count()).toBe(4);
      expect(await b.count('alice')).toBe(2);
      expect(await a.count('carol')).toBe(0);
      await a.remove('n1.c1', 'alice');
      await a.remove('n1.c2', null);
      expect(await b.count()).toBe(2);
      expect(await b.count('alice')).toBe(1);
    });

    it("refuses a user's connection past the limit on any node, counting nothing, and admits again after a close", async () => {
      expect(await a.add('n1.c1', 'alice', 2)).toBe(true);
      expect(await b.add('n2.c1', 'alice', 2)).toBe(true);
      expect(await b.add('n2.c2', 'alice', 2)).toBe(false);
      expect(await a.add('n1.c3', 'alice', 2)).toBe(false);
      expect(await a.count('alice')).toBe(2);
      expect(await a.count()).toBe(2);
      // Other users and anonymous connections are not held by alice's limit.
      expect(await a.add('n1.c4', 'bob', 2)).toBe(true);
      expect(await a.add('n1.c5', null, 1)).toBe(true);
      expect(await a.add('n1.c6', null, 1)).toBe(true);
      await a.remove('n1.c1', 'alice');
      expect(await b.add('n2.c3', 'alice', 2)).toBe(true);
      expect(await b.count('alice')).toBe(2);
    });

    it('ignores a connection it does not know, and counts a connection added twice once', async () => {
      await a.add('n1.c1', 'alice');
      await a.add('n1.c1', 'alice');
      await a.remove('n1.c9', 'alice');
      expect(await a.count('alice')).toBe(1);
      await a.remove('n1.c1', 'alice');
      await a.remove('n1.c1', 'alice');
      expect(await a.count('alice')).toBe(0);
      expect(await a.count()).toBe(0);
    });
  });
}
