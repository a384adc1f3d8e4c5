import { createHmac, timingSafeEqual } from 'node:crypto';

/** What an HS* token must satisfy besides its signature. */
export interface HmacJwtChecks {
  readonly algorithms: readonly string[];
  readonly issuer: string | readonly string[] | undefined;
  readonly audience: string | readonly string[] | undefined;
  readonly clockToleranceSec: number;
}

const HASH: Readonly<Record<string, string>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/**
 * Verifies an HS256/384/512 JWT with Node's HMAC, synchronously (a few microseconds, where a WebCrypto verify costs
 * tens): the compact form, an allowed `alg`, no `crit`, the signature (constant-time), then `exp` and `nbf` (with the
 * tolerance), `iss` and `aud` when required. Returns the payload, or throws saying what failed (for the log only).
 */
export function verifyHmacJwt(
  token: string,
  secret: Uint8Array,
  checks: HmacJwtChecks,
  nowMs: number,
): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3) {
    throw new Error('not a compact JWS');
  }
  const header = decodeJson(parts[0], 'header');
  const alg = header.alg;
  if (typeof alg !== 'string' || HASH[alg] === undefined || !checks.algorithms.includes(alg)) {
    throw new Error(`"alg" (${String(alg)}) is not allowed`);
  }
  if (header.crit !== undefined) {
    throw new Error('"crit" headers are not supported');
  }
  const expected = createHmac(HASH[alg], secret).update(`${parts[0]}.${parts[1]}`).digest();
  const signature = Buffer.from(parts[2], 'base64url');
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
    throw new Error('signature verification failed');
  }
  const payload = decodeJson(parts[1], 'payload');
  const now = nowMs / 1000;
  const tolerance = checks.clockToleranceSec;
  if (payload.exp !== undefined && (typeof payload.exp !== 'number' || payload.exp <= now - tolerance)) {
    throw new Error('"exp" claim timestamp check failed');
  }
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now + tolerance)) {
    throw new Error('"nbf" claim timestamp check failed');
  }
  if (checks.issuer !== undefined && !oneOf(payload.iss, checks.issuer)) {
    throw new Error('unexpected "iss" claim value');
  }
  if (checks.audience !== undefined) {
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!audiences.some((audience) => oneOf(audience, checks.audience!))) {
      throw new Error('unexpected "aud" claim value');
    }
  }
  return payload;
}

function oneOf(value: unknown, accepted: string | readonly string[]): boolean {
  return typeof value === 'string' && (typeof accepted === 'string' ? value === accepted : accepted.includes(value));
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new Error(`the ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`the ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
