import { describe, expect, it } from '@jest/globals';
import { MemoryPresenceStore } from 'nestjs-realtime';
import { presenceInfoProblem } from '../../lib/presence/presence-info.js';

const alice = { userId: 'alice', info: { name: 'Alice' } };

// What every presence store does is in test/conformance; this is what only the in-memory one does.
describe('MemoryPresenceStore', () => {
  it('forgets a channel when its last member leaves', async () => {
    const store = new MemoryPresenceStore();
    await store.add('room', 'c1', alice);
    await store.add('other', 'c2', alice);
    expect(store.channelCount).toBe(2);
    await store.remove('room', 'c1', 'alice');
    expect(store.channelCount).toBe(1);
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
