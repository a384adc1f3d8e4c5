import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/** What an HS* token must satisfy besides its signature. */
export interface HmacJwtChecks {
  readonly algorithms: readonly string[];
  readonly issuer: string | readonly string[] | undefined;
  readonly audience: string | readonly string[] | undefined;
  readonly clockToleranceSec: number;
}

const HASH: Readonly<Record<string, string>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/**
 * Verifies HS256/384/512 JWTs with one secret, synchronously (a few microseconds, where a WebCrypto verify costs
 * tens): the compact form, an allowed `alg`, no `crit`, the signature (constant-time), then `exp` and `nbf` (with the
 * tolerance), `iss` and `aud` when required. `verify` returns the payload, or throws saying what failed (for the log
 * only).
 *
 * The secret is imported once, and the few distinct headers a deployment's tokens carry are decoded once.
 */
export class HmacJwtVerifier {
  readonly #key: KeyObject;
  readonly #headers = new Map<string, Record<string, unknown>>();

  constructor(
    secret: Uint8Array,
    private readonly checks: HmacJwtChecks,
  ) {
    this.#key = createSecretKey(secret);
  }

  verify(token: string, nowMs: number): Record<string, unknown> {
    const checks = this.checks;
    // Three base64url parts, as RFC 7515 has them.
    if (!COMPACT_JWS.test(token)) {
      throw new Error('not a compact JWS');
    }
    const firstDot = token.indexOf('.');
    const lastDot = token.lastIndexOf('.');
    const header = this.#header(token.slice(0, firstDot));
    const alg = header.alg;
    if (typeof alg !== 'string' || HASH[alg] === undefined || !checks.algorithms.includes(alg)) {
      throw new Error(`"alg" (${String(alg)}) is not allowed`);
    }
    if (header.crit !== undefined) {
      throw new Error('"crit" headers are not supported');
    }
    const expected = createHmac(HASH[alg], this.#key).update(token.slice(0, lastDot)).digest();
    const signature = Buffer.from(token.slice(lastDot + 1), 'base64url');
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new Error('signature verification failed');
    }
    const payload = decodeJson(token.slice(firstDot + 1, lastDot), 'payload');
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

  /** A header decoded once: at most a few dozen distinct ones are kept (a flood of odd headers is decoded each time). */
  #header(part: string): Record<string, unknown> {
    let header = this.#headers.get(part);
    if (header === undefined) {
      header = decodeJson(part, 'header');
      if (this.#headers.size < MAX_CACHED_HEADERS && part.length <= MAX_CACHED_HEADER_LENGTH) {
        this.#headers.set(part, header);
      }
    }
    return header;
  }
}

const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const MAX_CACHED_HEADERS = 32;
const MAX_CACHED_HEADER_LENGTH = 512;

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
