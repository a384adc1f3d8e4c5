import { describe, expect, it } from '@jest/globals';
import { MemoryPresenceStore } from 'nestjs-realtime';
import { presenceInfoProblem } from '../../lib/presence/presence-info.js';

const alice = { userId: 'alice', info: { name: 'Alice' } };

describe('MemoryPresenceStore', () => {
  it('makes a user a member at its first connection and removes it at its last', async () => {
    const store = new MemoryPresenceStore();
    expect(await store.add('room', 'c1', alice)).toBe(true);
    expect(await store.add('room', 'c2', alice)).toBe(false);
    expect(await store.members('room')).toEqual([alice]);
    expect(await store.remove('room', 'c1', 'alice')).toBeUndefined();
    expect(await store.remove('room', 'c2', 'alice')).toEqual(alice);
    expect(await store.members('room')).toEqual([]);
    expect(store.channelCount).toBe(0);
  });

  it("keeps the info of the user's first connection", async () => {
    const store = new MemoryPresenceStore();
    await store.add('room', 'c1', alice);
    await store.add('room', 'c2', { userId: 'alice', info: { name: 'Other' } });
    expect(await store.members('room')).toEqual([alice]);
  });

  it('ignores connections it does not know', async () => {
    const store = new MemoryPresenceStore();
    await store.add('room', 'c1', alice);
    expect(await store.remove('room', 'c9', 'alice')).toBeUndefined();
    expect(await store.remove('room', 'c1', 'bob')).toBeUndefined();
    expect(await store.remove('elsewhere', 'c1', 'alice')).toBeUndefined();
    expect(await store.members('room')).toEqual([alice]);
  });

  it('keeps channels apart', async () => {
    const store = new MemoryPresenceStore();
    await store.add('one', 'c1', alice);
    await store.add('two', 'c2', { userId: 'bob', info: {} });
    expect(await store.members('one')).toEqual([alice]);
    expect(await store.members('two')).toEqual([{ userId: 'bob', info: {} }]);
  });
});

describe('presenceInfoProblem', () => {
  it('accepts a plain JSON object within the size', () => {
    expect(presenceInfoProblem({ name: 'Alice', tags: ['a'] }, 64)).toBeUndefined();
    expect(presenceInfoProblem(Object.create(null), 64)).toBeUndefined();
  });

  it('refuses info larger than the limit, saying how large it is', () => {
    expect(presenceInfoProblem({ name: 'x'.repeat(100) }, 64)).toBe(
      'presence info is 111 bytes as JSON, more than maxPresenceInfoBytes (64)',
    );
    // Bytes, not characters: multi-byte text counts as it travels.
    expect(presenceInfoProblem({ name: 'é'.repeat(30) }, 64)).toContain('more than maxPresenceInfoBytes');
  });

  it.each([
    ['a string', 'Alice', 'presence info must be a plain object, got string'],
    ['null', null, 'presence info must be a plain object, got null'],
    ['an array', ['a'], 'presence info must be a plain object, got an array'],
    ['a class instance', new Date(0), 'presence info must be a plain object (a class instance'],
    ['a BigInt', { n: 1n }, 'presence info must be JSON'],
  ])('refuses %s', (_name, info, message) => {
    expect(presenceInfoProblem(info, 1024)).toContain(message);
  });

  it('refuses cyclic info', () => {
    const info: Record<string, unknown> = {};
    info.self = info;
    expect(presenceInfoProblem(info, 1024)).toContain('presence info must be JSON');
  });
});
