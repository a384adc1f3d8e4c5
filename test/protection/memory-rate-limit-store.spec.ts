import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryRateLimitStore } from 'nestjs-realtime/backend';

const rule = { limit: 4, windowMs: 1000 };

describe('MemoryRateLimitStore (token bucket)', () => {
  let time = 0;
  const stores: MemoryRateLimitStore[] = [];
  const store = () => {
    const created = new MemoryRateLimitStore({ now: () => time });
    stores.push(created);
    return created;
  };

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((created) => created.close()));
    time = 0;
  });

  it('allows a burst of `limit`, then refuses with the time until the next token', () => {
    const limits = store();
    const verdicts = Array.from({ length: 5 }, () => limits.consume('k', rule));
    expect(verdicts.map((verdict) => verdict.allowed)).toEqual([true, true, true, true, false]);
    expect(verdicts[4].retryAfterMs).toBe(250);
  });

  it('refills at limit per window, never above limit', () => {
    const limits = store();
    for (let index = 0; index < 4; index++) {
      limits.consume('k', rule);
    }
    time += 100;
    expect(limits.consume('k', rule)).toEqual({ allowed: false, retryAfterMs: 150 });
    time += 150;
    expect(limits.consume('k', rule).allowed).toBe(true);
    time += 60_000;
    const burst = Array.from({ length: 5 }, () => limits.consume('k', rule).allowed);
    expect(burst).toEqual([true, true, true, true, false]);
  });

  it('keeps keys apart', () => {
    const limits = store();
    for (let index = 0; index < 4; index++) {
      limits.consume('a', rule);
    }
    expect(limits.consume('a', rule).allowed).toBe(false);
    expect(limits.consume('b', rule).allowed).toBe(true);
  });

  it('forgets buckets once they are full again', () => {
    const limits = store();
    limits.consume('a', rule);
    limits.consume('b', rule);
    time += 100;
    limits.consume('b', rule);
    time += 150;
    limits.sweep();
    expect(limits.size).toBe(1);
    time += 1000;
    limits.sweep();
    expect(limits.size).toBe(0);
  });
});
