import { createPublicKey, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type * as Jose from 'jose';
import type { AuthenticateFunction, RealtimeIdentity } from '../interfaces/authenticator.interface.js';
import { getHandshakeToken } from '../server/handshake-token.js';
import { RealtimeOptionsError } from '../util/option-checks.js';
import { HmacJwtVerifier } from './hmac-jwt.js';
import { type JwtAuthOptions, type ResolvedJwtOptions, resolveJwtOptions } from './jwt-options.js';

/** Why a token was refused (the handshake gets a plain 401; this message goes to the log and `OnRealtimeError`). */
export class JwtRefusedError extends Error {
  override readonly name = 'JwtRefusedError';
}

/** What `jwtAuth()` makes: the `authenticate` option, with the keys prepared once when the module starts. */
export type JwtAuthenticate = AuthenticateFunction & {
  /** Verifies a token sent in band (a `refresh` frame): the same checks as the handshake's. */
  refresh(token: string): Promise<RealtimeIdentity>;
  /** Loads `jose` and imports the key (or sets up the JWKS); the module calls it at boot, so a bad key fails the boot. */
  prepare(): Promise<void>;
};

type Verify = (token: string) => Promise<Jose.JWTPayload>;

/** A prepared verifier; `verifyNow` where the check is synchronous (a secret), so a handshake waits for nothing. */
interface Verifier {
  readonly verify: Verify;
  readonly verifyNow?: (token: string) => Jose.JWTPayload;
}

/**
 * Handshake authentication by JWT, built in: verifies the token's signature with a secret (HS*), a public key (RS*,
 * PS*, ES*, EdDSA) or a JWKS URL (cached, fetched again for an unknown `kid`, at most once per cooldown), its `exp`
 * and `nbf` (with `clockToleranceSec`), and `iss`/`aud` when set. The user id is the `sub` claim (or
 * `userIdClaim`); `metadataClaims` and `infoClaims` are copied into the connection's metadata and presence info.
 * The key is imported once at boot. A refused token gets HTTP 401 before the upgrade; why goes to the log only.
 * With a secret, a handshake's token is checked synchronously, in the turn the handshake arrives.
 *
 * The token is read by `getHandshakeToken`: a `bearer.<token>` entry of `Sec-WebSocket-Protocol` (what the client SDK
 * sends: browsers cannot set headers, and a URL ends up in proxy logs), an `Authorization: Bearer` header, or the
 * `token` query parameter. A public key or a JWKS needs the `jose` package; a secret needs nothing more.
 *
 * @example
 * ```ts
 * RealtimeModule.forRoot({ authenticate: jwtAuth({ secret: process.env.JWT_SECRET!, issuer: 'my-app' }) });
 * ```
 */
export function jwtAuth(options: JwtAuthOptions): JwtAuthenticate {
  const resolved = resolveJwtOptions(options);
  let verifier: Promise<Verifier> | undefined;
  // Set once prepared: a secret's tokens are then checked synchronously, with no promise per handshake.
  let verifyNow: Verifier['verifyNow'];
  const prepared = (): Promise<Verifier> =>
    (verifier ??= makeVerifier(resolved).then((made) => {
      verifyNow = made.verifyNow;
      return made;
    }));
  const identityOf = (payload: Jose.JWTPayload): RealtimeIdentity => {
    const userId = payload[resolved.userIdClaim];
    if (typeof userId !== 'string' || userId.length === 0) {
      throw new JwtRefusedError(`the token has no "${resolved.userIdClaim}" claim (a non-empty string)`);
    }
    return {
      userId,
      metadata: pick(payload, resolved.metadataClaims),
      info: pick(payload, resolved.infoClaims),
      expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
    };
  };
  const identify = async (token: string): Promise<RealtimeIdentity> => {
    const { verify } = await prepared();
    let payload: Jose.JWTPayload;
    try {
      payload = await verify(token);
    } catch (error) {
      throw refused(error);
    }
    return identityOf(payload);
  };
  const authenticate = (request: IncomingMessage): RealtimeIdentity | Promise<RealtimeIdentity> => {
    const token = getHandshakeToken(request);
    if (token === undefined) {
      throw new JwtRefusedError('no token (a bearer.<token> subprotocol entry, Authorization: Bearer, or ?token=)');
    }
    if (verifyNow === undefined) {
      return identify(token);
    }
    let payload: Jose.JWTPayload;
    try {
      payload = verifyNow(token);
    } catch (error) {
      throw refused(error);
    }
    return identityOf(payload);
  };
  return Object.assign(authenticate, {
    refresh: (token: string) => identify(token),
    prepare: async () => {
      await prepared();
    },
  });
}

function refused(error: unknown): JwtRefusedError {
  return new JwtRefusedError(`the token was refused: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

async function makeVerifier(options: ResolvedJwtOptions): Promise<Verifier> {
  const { key } = options;
  if (key.kind === 'secret') {
    // HS*: Node's HMAC, synchronously (no jose needed); jose's WebCrypto path costs several times more per handshake.
    const verifier = new HmacJwtVerifier(key.secret, options);
    const verifyNow = (token: string): Jose.JWTPayload => verifier.verify(token, Date.now());
    return { verify: (token) => Promise.resolve(verifyNow(token)), verifyNow };
  }
  const jose = await loadJose();
  const verifyOptions: Jose.JWTVerifyOptions = {
    algorithms: [...options.algorithms],
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockToleranceSec,
  };
  if (key.kind === 'jwks') {
    const keys = jose.createRemoteJWKSet(key.url, {
      cooldownDuration: options.jwksCooldownMs,
      cacheMaxAge: options.jwksCacheMaxAgeMs,
    });
    return { verify: async (token) => (await jose.jwtVerify(token, keys, verifyOptions)).payload };
  }
  // A PEM is imported once per algorithm, as a WebCrypto key (about half the cost of a verify with key bytes).
  const imported = new Map<string, Promise<Jose.CryptoKey | KeyObject>>();
  let importKey: (alg: string) => Promise<Jose.CryptoKey | KeyObject>;
  if (typeof key.publicKey !== 'string') {
    const publicKey = key.publicKey;
    importKey = () => Promise.resolve(publicKey);
  } else {
    const pem = key.publicKey;
    try {
      createPublicKey(pem); // a bad key fails the boot here
    } catch (error) {
      throw new RealtimeOptionsError(
        `Invalid jwtAuth option "publicKey": ${(error as Error)?.message ?? String(error)}`,
      );
    }
    importKey = (alg) => (pem.includes('CERTIFICATE') ? jose.importX509(pem, alg) : jose.importSPKI(pem, alg));
  }
  function keyFor(alg: string): Promise<Jose.CryptoKey | KeyObject> {
    let found = imported.get(alg);
    if (found === undefined) {
      found = importKey(alg);
      imported.set(alg, found);
    }
    return found;
  }
  return {
    verify: async (token) => (await jose.jwtVerify(token, (header) => keyFor(header.alg), verifyOptions)).payload,
  };
}

/** The claims present in the payload; undefined for none (nothing to check or keep per connection). */
function pick(payload: Jose.JWTPayload, claims: readonly string[]): Record<string, unknown> | undefined {
  let picked: Record<string, unknown> | undefined;
  for (const claim of claims) {
    if (payload[claim] !== undefined) {
      (picked ??= {})[claim] = payload[claim];
    }
  }
  return picked;
}

async function loadJose(): Promise<typeof Jose> {
  try {
    return await import('jose');
  } catch (error) {
    throw new Error('jwtAuth() with a publicKey or a jwksUrl needs the jose package: npm install jose', {
      cause: error,
    });
  }
}
