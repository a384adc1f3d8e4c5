import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { HmacJwtVerifier } from '../../lib/auth/hmac-jwt.js';

const ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
const CHECKS = { algorithms: ALGORITHMS, issuer: undefined, audience: undefined, clockToleranceSec: 0 };

/** A token signed by jose, the reference implementation. */
function sign(secret: Uint8Array, alg: string, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(secret);
}

describe('HmacJwtVerifier', () => {
  it('accepts what jose signs, for every HS algorithm and secrets shorter and longer than the hash block', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ALGORITHMS),
        fc.uint8Array({ minLength: 32, maxLength: 300 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        async (alg, secret, sub) => {
          const token = await sign(secret, alg, { sub, n: 1 });
          expect(new HmacJwtVerifier(secret, CHECKS).verify(token, Date.now())).toEqual({ sub, n: 1 });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a token signed with another secret, or altered anywhere', async () => {
    const secret = new TextEncoder().encode('a-test-secret-of-at-least-32-bytes-long');
    const verifier = new HmacJwtVerifier(secret, CHECKS);
    const token = await sign(secret, 'HS256', { sub: 'alice' });
    const other = await sign(new TextEncoder().encode('another-secret-of-at-least-32-bytes-long'), 'HS256', {
      sub: 'alice',
    });
    expect(() => verifier.verify(other, Date.now())).toThrow('signature verification failed');
    fc.assert(
      fc.property(
        // The last character too: its low bits are padding, and a non-canonical signature is refused as well.
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom('A', 'x', '_', '-', 'Į', 'é', '.', '='),
        (at, char) => {
          const altered = token.slice(0, at) + char + token.slice(at + 1);
          fc.pre(altered !== token);
          expect(() => verifier.verify(altered, Date.now())).toThrow();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('verifies tokens of any size, a large one after a small one and back (the MAC buffers are reused)', async () => {
    const secret = new TextEncoder().encode('a-test-secret-of-at-least-32-bytes-long');
    const verifier = new HmacJwtVerifier(secret, CHECKS);
    for (const length of [1, 5_000, 10, 20_000, 3]) {
      for (const alg of ALGORITHMS) {
        const claims = { sub: 'alice', note: 'x'.repeat(length) };
        expect(verifier.verify(await sign(secret, alg, claims), Date.now())).toEqual(claims);
      }
    }
  });

  it('checks exp and nbf with the tolerance, and only the allowed algorithms', async () => {
    const secret = new TextEncoder().encode('a-test-secret-of-at-least-32-bytes-long');
    const now = Date.now();
    const expired = await sign(secret, 'HS256', { sub: 'a', exp: Math.floor(now / 1000) - 10 });
    expect(() => new HmacJwtVerifier(secret, CHECKS).verify(expired, now)).toThrow('"exp"');
    expect(new HmacJwtVerifier(secret, { ...CHECKS, clockToleranceSec: 30 }).verify(expired, now)).toMatchObject({
      sub: 'a',
    });
    const early = await sign(secret, 'HS256', { sub: 'a', nbf: Math.floor(now / 1000) + 60 });
    expect(() => new HmacJwtVerifier(secret, CHECKS).verify(early, now)).toThrow('"nbf"');
    const hs512 = await sign(secret, 'HS512', { sub: 'a' });
    expect(() => new HmacJwtVerifier(secret, { ...CHECKS, algorithms: ['HS256'] }).verify(hs512, now)).toThrow(
      '"alg" (HS512) is not allowed',
    );
  });
});
