import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { type JWTPayload, SignJWT, exportJWK } from 'jose';
import { Channel, type JwtAuthOptions, RealtimeModule, jwtAuth } from 'nestjs-realtime';
import { startApp } from '../support/create-app.js';
import { serverAroundSuite } from '../support/suites.js';
import { TestClient } from '../support/test-client.js';

@Channel('room:{id}', { public: true, presence: true })
class RoomChannel {}

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

function appWith(options: JwtAuthOptions) {
  @Module({ imports: [RealtimeModule.forRoot({ authenticate: jwtAuth(options) })], providers: [RoomChannel] })
  class JwtModule {}
  return serverAroundSuite(JwtModule);
}

async function sign(
  claims: JWTPayload,
  key: Uint8Array | KeyObject,
  alg: string,
  options: { kid?: string; expiresIn?: string | number } = {},
): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg, kid: options.kid }).setIssuedAt();
  if (options.expiresIn !== undefined) {
    jwt.setExpirationTime(options.expiresIn);
  }
  return jwt.sign(key);
}

const secretKey = new TextEncoder().encode(SECRET);

describe('jwtAuth with a secret (HS256): claims, issuer, audience, expiry, token places', () => {
  const suite = appWith({
    secret: SECRET,
    issuer: 'chat-app',
    audience: 'realtime',
    metadataClaims: ['role'],
    infoClaims: ['name'],
  });
  const valid = (claims: JWTPayload = {}) =>
    sign(
      { sub: 'alice', iss: 'chat-app', aud: 'realtime', role: 'admin', name: 'Alice', ...claims },
      secretKey,
      'HS256',
      {
        expiresIn: '1h',
      },
    );

  it('accepts a valid token: sub is the user, chosen claims become metadata and presence info', async () => {
    const client = await suite.connect(undefined, { token: await valid() });
    expect(client.welcome.payload).toMatchObject({ userId: 'alice' });
    const connection = suite.realtime.getConnection(client.connectionId)!;
    expect(connection.metadata).toEqual({ role: 'admin' });
    expect(connection.info).toEqual({ name: 'Alice' });
    const joined = await client.subscribe('room:1');
    expect(joined.payload).toMatchObject({ members: [{ userId: 'alice', info: { name: 'Alice' } }] });
  });

  it('logs why a token was refused (never sent to the client)', async () => {
    const expired = await sign({ sub: 'alice', iss: 'chat-app', aud: 'realtime' }, secretKey, 'HS256', {
      expiresIn: -60,
    });
    expect((await TestClient.refusal(suite.server.url, { token: expired })).status).toBe(401);
    expect(
      suite.server.logger.find('debug', 'the token was refused: "exp" claim timestamp check failed'),
    ).toBeDefined();
  });

  it('reads the token from a bearer.<token> subprotocol entry, an Authorization header, or ?token=', async () => {
    const token = await valid();
    const viaProtocol = await suite.connect(undefined, { protocols: ['realtime.v1', `bearer.${token}`] });
    expect(viaProtocol.socket.protocol).toBe('realtime.v1');
    expect(viaProtocol.welcome.payload).toMatchObject({ userId: 'alice' });
    const viaHeader = await suite.connect(undefined, { headers: { Authorization: `Bearer ${token}` } });
    expect(viaHeader.welcome.payload).toMatchObject({ userId: 'alice' });
    const viaQuery = await suite.connect(undefined, { token });
    expect(viaQuery.welcome.payload).toMatchObject({ userId: 'alice' });
  });

  it.each([
    ['no token', () => Promise.resolve(undefined)],
    [
      'an expired token',
      () => sign({ sub: 'alice', iss: 'chat-app', aud: 'realtime' }, secretKey, 'HS256', { expiresIn: -60 }),
    ],
    ['another issuer', () => valid({ iss: 'elsewhere' })],
    ['another audience', () => valid({ aud: 'other' })],
    ['no sub claim', () => valid({ sub: undefined })],
    [
      'a payload edited after signing',
      async () => {
        const [header, , signature] = (await valid()).split('.');
        const forged = Buffer.from(JSON.stringify({ sub: 'mallory', iss: 'chat-app', aud: 'realtime' })).toString(
          'base64url',
        );
        return `${header}.${forged}.${signature}`;
      },
    ],
    ['a token not valid yet (nbf)', () => valid({ nbf: Math.floor(Date.now() / 1000) + 3600 })],
    [
      'another secret',
      () => sign({ sub: 'alice', iss: 'chat-app', aud: 'realtime' }, new TextEncoder().encode('x'.repeat(40)), 'HS256'),
    ],
    [
      'alg none',
      () =>
        Promise.resolve(
          `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"alice"}').toString('base64url')}.`,
        ),
    ],
  ])('refuses %s with a plain 401 before the upgrade, the reason in the log only', async (_case, token) => {
    const refusal = await TestClient.refusal(suite.server.url, { token: await token() });
    expect(refusal.status).toBe(401);
    expect(JSON.stringify(refusal.body)).not.toMatch(/expired|issuer|audience|signature|claim/i);
  });
});

describe('jwtAuth with public keys (RS256, ES256, EdDSA)', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed = generateKeyPairSync('ed25519');

  it.each([
    ['RS256', rsa],
    ['ES256', ec],
    ['EdDSA', ed],
  ] as const)('verifies %s with a PEM public key, and refuses a token signed by another key', async (alg, pair) => {
    @Module({
      imports: [
        RealtimeModule.forRoot({
          authenticate: jwtAuth({ publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string }),
        }),
      ],
    })
    class KeyModule {}
    const app = await startApp(KeyModule);
    try {
      const client = await TestClient.connect(app.url, { token: await sign({ sub: 'bob' }, pair.privateKey, alg) });
      expect(client.welcome.payload).toMatchObject({ userId: 'bob' });
      await client.close();
      const other =
        alg === 'RS256'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : alg === 'ES256'
            ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
            : generateKeyPairSync('ed25519');
      const forged = await sign({ sub: 'bob' }, other.privateKey, alg);
      expect((await TestClient.refusal(app.url, { token: forged })).status).toBe(401);
    } finally {
      await app.app.close();
    }
  });

  it('fails the boot naming the option when the public key is not a key', async () => {
    @Module({
      imports: [
        RealtimeModule.forRoot({
          authenticate: jwtAuth({ publicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' }),
        }),
      ],
    })
    class BadKeyModule {}
    await expect(startApp(BadKeyModule)).rejects.toThrow(/jwtAuth option "publicKey"/);
  });

  it('refuses options that name no key, or two, at once', () => {
    expect(() => jwtAuth({})).toThrow('jwtAuth() needs exactly one of "secret", "publicKey" and "jwksUrl", got none');
    expect(() => jwtAuth({ secret: SECRET, jwksUrl: 'https://example.com/jwks' })).toThrow('got secret and jwksUrl');
    expect(() => jwtAuth({ secret: 'short' })).toThrow('"secret"');
    expect(() => jwtAuth({ secret: SECRET, algorithms: ['RS256'] })).toThrow('"algorithms"');
  });
});

describe('jwtAuth with a JWKS URL (a real HTTP server): cached, fetched again for an unknown kid', () => {
  const first = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const second = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const published: object[] = [];
  let fetches = 0;
  let jwks: Server;
  let url: string;

  beforeAll(async () => {
    published.push({ ...(await exportJWK(first.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' });
    jwks = createServer((_request, response) => {
      fetches++;
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => jwks.close(() => resolve()));
  });

  it('verifies tokens by kid, fetches the set once for known keys, and again when a new kid appears', async () => {
    @Module({ imports: [RealtimeModule.forRoot({ authenticate: jwtAuth({ jwksUrl: url, jwksCooldownMs: 0 }) })] })
    class JwksModule {}
    const app = await startApp(JwksModule);
    try {
      for (const user of ['ann', 'ben']) {
        const token = await sign({ sub: user }, first.privateKey, 'ES256', { kid: 'k1' });
        const client = await TestClient.connect(app.url, { token });
        expect(client.welcome.payload).toMatchObject({ userId: user });
        await client.close();
      }
      expect(fetches).toBe(1);
      // The issuer rotates: a token signed with a key the cached set does not have makes the set be fetched again.
      published.push({ ...(await exportJWK(second.publicKey)), kid: 'k2', alg: 'ES256', use: 'sig' });
      const rotated = await sign({ sub: 'cat' }, second.privateKey, 'ES256', { kid: 'k2' });
      const client = await TestClient.connect(app.url, { token: rotated });
      expect(client.welcome.payload).toMatchObject({ userId: 'cat' });
      await client.close();
      expect(fetches).toBe(2);
      const unknown = await sign(
        { sub: 'dan' },
        generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
        'ES256',
        {
          kid: 'k9',
        },
      );
      expect((await TestClient.refusal(app.url, { token: unknown })).status).toBe(401);
    } finally {
      await app.app.close();
    }
  });
});
