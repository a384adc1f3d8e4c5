import type { ConformanceRunner } from './runner.js';
import { type TwoNodes, eachTestOnTwoNodes } from './two-nodes.js';
import type { PresenceMember } from '../index.js';
import type { PresenceStore } from '../index.js';

/** Two nodes of one presence backend (for an in-process store, the same store twice) and how to end them. */
export type PresenceBackend = TwoNodes<PresenceStore>;

const alice: PresenceMember = { userId: 'alice', info: { name: 'Alice' } };
const bob: PresenceMember = { userId: 'bob', info: {} };

/** What every PresenceStore must do, written once and run against each implementation. */
export function describePresenceStoreConformance(
  runner: ConformanceRunner,
  name: string,
  open: () => Promise<PresenceBackend>,
): void {
  const { describe, it, expect } = runner;
  describe(`${name} (PresenceStore conformance)`, () => {
    let a: PresenceStore;
    let b: PresenceStore;
    eachTestOnTwoNodes(runner, open, (nodes) => ([a, b] = nodes));

    it('makes a user a member at its first connection and removes it at its last', async () => {
      expect(await a.add('room', 'n1.c1', alice)).toBe(true);
      expect(await a.add('room', 'n1.c2', alice)).toBe(false);
      expect(await a.members('room')).toEqual([alice]);
      expect(await a.remove('room', 'n1.c1', 'alice')).toBeUndefined();
      expect(await a.remove('room', 'n1.c2', 'alice')).toEqual(alice);
      expect(await a.members('room')).toEqual([]);
    });

    it('counts one member per user across nodes, leaving only with its last connection anywhere', async () => {
      expect(await a.add('room', 'n1.c1', alice)).toBe(true);
      expect(await b.add('room', 'n2.c1', alice)).toBe(false);
      expect(await b.add('room', 'n2.c2', bob)).toBe(true);
      expect(sorted(await a.members('room'))).toEqual([alice, bob]);
      expect(sorted(await b.members('room'))).toEqual([alice, bob]);
      expect([await a.count('room'), await b.count('room'), await a.count('empty')]).toEqual([2, 2, 0]);
      const pages = [...(await b.page('room', 0, 1)), ...(await b.page('room', 1, 1))];
      expect(sorted(pages)).toEqual([alice, bob]);
      expect(await a.page('room', 2, 10)).toEqual([]);
      expect(await a.remove('room', 'n1.c1', 'alice')).toBeUndefined();
      expect(await b.remove('room', 'n2.c1', 'alice')).toEqual(alice);
      expect(await a.members('room')).toEqual([bob]);
    });

    it("keeps the info of the user's first connection", async () => {
      await a.add('room', 'n1.c1', alice);
      await b.add('room', 'n2.c1', { userId: 'alice', info: { name: 'Other' } });
      expect(await b.members('room')).toEqual([alice]);
    });

    it('ignores connections it does not know, and a connection recorded twice counts once', async () => {
      await a.add('room', 'n1.c1', alice);
      expect(await a.add('room', 'n1.c1', alice)).toBe(false);
      expect(await a.remove('room', 'n1.c9', 'alice')).toBeUndefined();
      expect(await a.remove('elsewhere', 'n1.c1', 'alice')).toBeUndefined();
      expect(await a.members('room')).toEqual([alice]);
      expect(await a.remove('room', 'n1.c1', 'alice')).toEqual(alice);
      expect(await a.remove('room', 'n1.c1', 'alice')).toBeUndefined();
    });

    it("replaces a member's info for every node, in that channel only, and not for a user who is not a member", async () => {
      await a.add('room', 'n1.c1', alice);
      await b.add('room', 'n2.c1', alice);
      await b.add('other', 'n2.c1', alice);
      const away = { userId: 'alice', info: { name: 'Alice', status: 'away' } };
      expect(await b.setInfo('room', away)).toBe(true);
      expect(await a.members('room')).toEqual([away]);
      expect(await a.members('other')).toEqual([alice]);
      expect(await a.setInfo('room', { userId: 'bob', info: {} })).toBe(false);
      expect(await a.members('room')).toEqual([away]);
      expect(await a.remove('room', 'n1.c1', 'alice')).toBeUndefined();
      expect(await b.remove('room', 'n2.c1', 'alice')).toEqual(away);
    });

    it('keeps channels apart', async () => {
      await a.add('one', 'n1.c1', alice);
      await b.add('two', 'n2.c1', bob);
      expect(await b.members('one')).toEqual([alice]);
      expect(await a.members('two')).toEqual([bob]);
    });
  });
}

function sorted(members: PresenceMember[]): PresenceMember[] {
  return [...members].sort((x, y) => x.userId.localeCompare(y.userId));
}
