import { hash } from 'node:crypto';

/** What an HS* token must satisfy besides its signature. */
export interface HmacJwtChecks {
  readonly algorithms: readonly string[];
  readonly issuer: string | readonly string[] | undefined;
  readonly audience: string | readonly string[] | undefined;
  readonly clockToleranceSec: number;
}

/** Each HS* algorithm's hash, with its block size (RFC 2104's B). */
const HASH: Readonly<Record<string, { readonly name: string; readonly blockSize: number }>> = {
  HS256: { name: 'sha256', blockSize: 64 },
  HS384: { name: 'sha384', blockSize: 128 },
  HS512: { name: 'sha512', blockSize: 128 },
};

/**
 * Verifies HS256/384/512 JWTs with one secret, synchronously (a few microseconds, where a WebCrypto verify costs
 * tens): the compact form, an allowed `alg`, no `crit`, the signature (constant-time), then `exp` and `nbf` (with the
 * tolerance), `iss` and `aud` when required. `verify` returns the payload, or throws saying what failed (for the log
 * only).
 *
 * The secret's padded keys are computed once, and the few distinct headers a deployment's tokens carry are decoded once.
 */
export class HmacJwtVerifier {
  readonly #signers = new Map<string, (signingInput: string) => Buffer>();
  readonly #headers = new Map<string, Record<string, unknown>>();

  constructor(
    secret: Uint8Array,
    private readonly checks: HmacJwtChecks,
  ) {
    for (const [alg, { name, blockSize }] of Object.entries(HASH)) {
      this.#signers.set(alg, oneShotHmac(name, blockSize, secret));
    }
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
    if (typeof alg !== 'string' || !this.#signers.has(alg) || !checks.algorithms.includes(alg)) {
      throw new Error(`"alg" (${String(alg)}) is not allowed`);
    }
    if (header.crit !== undefined) {
      throw new Error('"crit" headers are not supported');
    }
    // Compared as text, in constant time: the canonical base64url of the expected MAC (RFC 7515 has no other form).
    const expected = this.#signers.get(alg)!(token.slice(0, lastDot)).toString('base64url');
    if (!sameText(expected, token, lastDot + 1)) {
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

/**
 * HMAC (RFC 2104) over ASCII input with two one-shot digests (`crypto.hash`, no Hmac object per call):
 * H((K ^ opad) || H((K ^ ipad) || m)), the padded keys computed once. Synchronous use only: the buffers are reused.
 */
function oneShotHmac(name: string, blockSize: number, secret: Uint8Array): (input: string) => Buffer {
  const key = secret.length > blockSize ? hash(name, Buffer.from(secret), 'buffer') : secret;
  const innerPad = Buffer.alloc(blockSize, 0x36);
  const outerPad = Buffer.alloc(blockSize, 0x5c);
  for (let index = 0; index < key.length; index++) {
    innerPad[index] ^= key[index];
    outerPad[index] ^= key[index];
  }
  let inner = Buffer.alloc(blockSize + 2048);
  innerPad.copy(inner);
  let outer: Buffer | undefined;
  return (input) => {
    if (blockSize + input.length > inner.length) {
      inner = Buffer.alloc(blockSize + input.length);
      innerPad.copy(inner);
    }
    const written = inner.write(input, blockSize, 'latin1');
    const innerDigest = hash(name, inner.subarray(0, blockSize + written), 'buffer');
    if (outer === undefined) {
      outer = Buffer.alloc(blockSize + innerDigest.length);
      outerPad.copy(outer);
    }
    innerDigest.copy(outer, blockSize);
    return hash(name, outer, 'buffer');
  };
}

/** Whether `text` from `offset` to its end equals `expected`, in time that does not depend on where they differ. */
function sameText(expected: string, text: string, offset: number): boolean {
  if (text.length - offset !== expected.length) {
    return false;
  }
  let difference = 0;
  for (let index = 0; index < expected.length; index++) {
    difference |= expected.charCodeAt(index) ^ text.charCodeAt(offset + index);
  }
  return difference === 0;
}
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
