import type { ConformanceRunner } from './runner.js';
import { type TwoNodes, eachTestOnTwoNodes } from './two-nodes.js';
import type { RateLimitRule } from '../index.js';
import type { RateLimitStore, RateLimitVerdict } from '../index.js';
import { waitUntil } from './wait-until.js';

/** Two nodes of one rate-limit backend (for an in-process store, the same store twice) and how to end them. */
export type RateLimitBackend = TwoNodes<RateLimitStore>;

const consume = async (store: RateLimitStore, key: string, rule: RateLimitRule): Promise<RateLimitVerdict> =>
  await store.consume(key, rule);

/** What every RateLimitStore must do, written once and run against each implementation. */
export function describeRateLimitStoreConformance(
  runner: ConformanceRunner,
  name: string,
  open: () => Promise<RateLimitBackend>,
): void {
  const { describe, it, expect } = runner;
  describe(`${name} (RateLimitStore conformance)`, () => {
    let a: RateLimitStore;
    let b: RateLimitStore;
    eachTestOnTwoNodes(runner, open, (nodes) => ([a, b] = nodes));

    const rule: RateLimitRule = { limit: 3, windowMs: 60_000 };

    it('allows a burst up to the limit, then refuses with how long until one more is allowed', async () => {
      for (let i = 0; i < 3; i++) {
        expect(await consume(a, 'u:alice', rule)).toEqual({ allowed: true, retryAfterMs: 0 });
      }
      const refused = await consume(a, 'u:alice', rule);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(rule.windowMs / rule.limit);
    });

    it('shares one bucket per key between nodes, and keeps keys apart', async () => {
      expect((await consume(a, 'u:bob', rule)).allowed).toBe(true);
      expect((await consume(b, 'u:bob', rule)).allowed).toBe(true);
      expect((await consume(a, 'u:bob', rule)).allowed).toBe(true);
      expect((await consume(b, 'u:bob', rule)).allowed).toBe(false);
      expect((await consume(b, 'u:carol', rule)).allowed).toBe(true);
    });

    it('refills at limit per window', async () => {
      const fast: RateLimitRule = { limit: 2, windowMs: 200 };
      await consume(a, 'u:dana', fast);
      await consume(a, 'u:dana', fast);
      expect((await consume(a, 'u:dana', fast)).allowed).toBe(false);
      expect(await waitUntil(async () => (await consume(b, 'u:dana', fast)).allowed, 5000)).toBe(true);
    });
  });
}
