import type { KeyObject } from 'node:crypto';
import { describeValue } from '../util/describe-value.js';
import { RealtimeOptionsError, check as checkOption, rejectUnknownKeys, isIntegerIn } from '../util/option-checks.js';

/** Options of `jwtAuth()`: where the key comes from (exactly one), what the token must say, and what it gives. */
export interface JwtAuthOptions {
  /** HS256/384/512: the shared secret (at least 32 bytes). */
  readonly secret?: string | Uint8Array;
  /** RS*, PS*, ES*, EdDSA: a PEM public key (SPKI), a PEM certificate, or a Node `KeyObject`. */
  readonly publicKey?: string | KeyObject;
  /** A JWKS URL: fetched on first use, cached, fetched again for an unknown `kid` (at most once per cooldown). */
  readonly jwksUrl?: string;
  /** Accepted algorithms. Default: HS256/384/512 with `secret`, else RS*, PS*, ES* and EdDSA. */
  readonly algorithms?: readonly string[];
  /** Required `iss` (one of). */
  readonly issuer?: string | readonly string[];
  /** Required `aud` (one of). */
  readonly audience?: string | readonly string[];
  /** Leeway for `exp` and `nbf`, in seconds. Default 5. */
  readonly clockToleranceSec?: number;
  /** The claim that is the user id. Default `'sub'`. */
  readonly userIdClaim?: string;
  /** Claims copied into the connection's `metadata` (missing ones are left out). Default none. */
  readonly metadataClaims?: readonly string[];
  /** Claims copied into the presence `info` (a display name, an avatar). Default none. */
  readonly infoClaims?: readonly string[];
  /** With `jwksUrl`: the least time between two fetches for unknown keys. Default 30 000 ms. */
  readonly jwksCooldownMs?: number;
  /** With `jwksUrl`: how long fetched keys are used before they are fetched again. Default 600 000 ms. */
  readonly jwksCacheMaxAgeMs?: number;
}

export type JwtKeySource =
  | { readonly kind: 'secret'; readonly secret: Uint8Array }
  | { readonly kind: 'publicKey'; readonly publicKey: string | KeyObject }
  | { readonly kind: 'jwks'; readonly url: URL };

export interface ResolvedJwtOptions {
  readonly key: JwtKeySource;
  readonly algorithms: readonly string[];
  readonly issuer: string | string[] | undefined;
  readonly audience: string | string[] | undefined;
  readonly clockToleranceSec: number;
  readonly userIdClaim: string;
  readonly metadataClaims: readonly string[];
  readonly infoClaims: readonly string[];
  readonly jwksCooldownMs: number;
  readonly jwksCacheMaxAgeMs: number;
}

const SYMMETRIC = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const KNOWN = [
  'secret',
  'publicKey',
  'jwksUrl',
  'algorithms',
  'issuer',
  'audience',
  'clockToleranceSec',
  'userIdClaim',
  'metadataClaims',
  'infoClaims',
  'jwksCooldownMs',
  'jwksCacheMaxAgeMs',
];

/** Validates `jwtAuth()`'s options; a bad one throws naming it and the value. */
export function resolveJwtOptions(options: JwtAuthOptions): ResolvedJwtOptions {
  if (typeof options !== 'object' || options === null) {
    throw new RealtimeOptionsError(`jwtAuth() expects an options object, got ${describeValue(options)}`);
  }
  rejectUnknownKeys('jwtAuth option', options, KNOWN);
  const sources = (['secret', 'publicKey', 'jwksUrl'] as const).filter((name) => options[name] !== undefined);
  if (sources.length !== 1) {
    throw new RealtimeOptionsError(
      `jwtAuth() needs exactly one of "secret", "publicKey" and "jwksUrl", got ${sources.length === 0 ? 'none' : sources.join(' and ')}`,
    );
  }
  const key = keySource(options);
  const allowed = key.kind === 'secret' ? SYMMETRIC : ASYMMETRIC;
  const algorithms = check(
    'algorithms',
    options.algorithms ?? allowed,
    (value) => Array.isArray(value) && value.length > 0 && value.every((alg) => allowed.includes(alg as string)),
    `a non-empty list among ${allowed.join(', ')} (for ${key.kind === 'secret' ? 'a secret' : 'a public key'})`,
  );
  const names = (value: unknown) =>
    value === undefined ||
    typeof value === 'string' ||
    (Array.isArray(value) && value.every((item) => typeof item === 'string'));
  const claims = (value: unknown) => Array.isArray(value) && value.every((item) => typeof item === 'string' && item);
  return {
    key,
    algorithms,
    issuer: check('issuer', options.issuer, names, 'a string or a list of strings') as string | string[] | undefined,
    audience: check('audience', options.audience, names, 'a string or a list of strings') as
      string | string[] | undefined,
    clockToleranceSec: check(
      'clockToleranceSec',
      options.clockToleranceSec ?? 5,
      (value) => isIntegerIn(value, 0, 3600),
      'an integer from 0 to 3600',
    ),
    userIdClaim: check(
      'userIdClaim',
      options.userIdClaim ?? 'sub',
      (value) => typeof value === 'string' && value.length > 0,
      'a claim name',
    ),
    metadataClaims: check('metadataClaims', options.metadataClaims ?? [], claims, 'a list of claim names'),
    infoClaims: check('infoClaims', options.infoClaims ?? [], claims, 'a list of claim names'),
    jwksCooldownMs: check(
      'jwksCooldownMs',
      options.jwksCooldownMs ?? 30_000,
      (value) => isIntegerIn(value, 0, 3_600_000),
      'an integer from 0 to 3600000',
    ),
    jwksCacheMaxAgeMs: check(
      'jwksCacheMaxAgeMs',
      options.jwksCacheMaxAgeMs ?? 600_000,
      (value) => isIntegerIn(value, 1_000, 86_400_000),
      'an integer from 1000 to 86400000',
    ),
  };
}

function keySource(options: JwtAuthOptions): JwtKeySource {
  if (options.secret !== undefined) {
    const secret = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
    check(
      'secret',
      secret,
      (value) => value instanceof Uint8Array && value.length >= 32,
      'a string or bytes of at least 32 bytes',
    );
    return { kind: 'secret', secret };
  }
  if (options.publicKey !== undefined) {
    check(
      'publicKey',
      options.publicKey,
      (value) =>
        (typeof value === 'string' && value.includes('-----BEGIN')) ||
        (typeof value === 'object' && value !== null && 'asymmetricKeyType' in value),
      'a PEM public key or certificate, or a KeyObject',
    );
    return { kind: 'publicKey', publicKey: options.publicKey };
  }
  const url = check(
    'jwksUrl',
    options.jwksUrl,
    (value) => typeof value === 'string' && /^https?:\/\/\S+$/.test(value),
    'an http(s) URL',
  );
  return { kind: 'jwks', url: new URL(url as string) };
}

function check<T>(name: string, value: T, valid: (value: T) => boolean, expected: string): T {
  return checkOption(name, value, valid, expected, 'jwtAuth option');
}
