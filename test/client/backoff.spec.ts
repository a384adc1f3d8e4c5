import { describe, expect, it } from '@jest/globals';
import { backoffDelay } from '../../lib/client/backoff.js';

const options = { minDelayMs: 100, maxDelayMs: 1000 };

describe('backoffDelay (full jitter)', () => {
  it('doubles its bound with every attempt, from minDelayMs up to maxDelayMs', () => {
    const bounds = [0, 1, 2, 3, 4, 5, 10, 100, 5000].map((attempt) => backoffDelay(attempt, options, () => 1));
    expect(bounds).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000]);
  });

  it('is a uniform pick from 0 to the bound', () => {
    expect(backoffDelay(3, options, () => 0)).toBe(0);
    expect(backoffDelay(3, options, () => 0.5)).toBe(400);
    for (let run = 0; run < 1000; run++) {
      const delay = backoffDelay(run % 8, options);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(1000);
    }
  });
});
