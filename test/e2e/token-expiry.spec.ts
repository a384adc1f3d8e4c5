import { describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { SignJWT } from 'jose';
import { Channel, CloseCode, ErrorCode, RealtimeModule, jwtAuth } from 'nestjs-realtime';
import { RealtimeClient } from 'nestjs-realtime/client';
import { WebSocket } from 'ws';
import { TokenExpiry } from '../../lib/auth/token-expiry.js';
import { serverAroundSuite } from '../support/suites.js';
import { waitUntil } from '../support/wait-until.js';

@Channel('room:{id}', { public: true })
class RoomChannel {}

const SECRET = new TextEncoder().encode('a-test-secret-that-is-long-enough-for-hs256');

/** A token for `sub` that expires `inSeconds` from now (exp is whole seconds). */
async function tokenFor(sub: string, inSeconds: number): Promise<{ token: string; expiresAt: number }> {
  const exp = Math.floor(Date.now() / 1000) + inSeconds;
  const token = await new SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(SECRET);
  return { token, expiresAt: exp * 1000 };
}

@Module({
  imports: [
    RealtimeModule.forRoot({
      authenticate: jwtAuth({ secret: SECRET }),
      tokenExpiryWarningMs: 60_000,
    }),
  ],
  providers: [RoomChannel],
})
class ExpiryModule {}

describe('token expiry: warned, then closed with 4007 unless refreshed in band', () => {
  const suite = serverAroundSuite(ExpiryModule);
  // The deadlines are checked against a clock the test drives (the watch's own timer uses the real one).
  const expiry = () => suite.server.app.get(TokenExpiry);

  it("takes the connection's expiry from the token, warns tokenExpiryWarningMs before, and closes at it", async () => {
    const { token, expiresAt } = await tokenFor('alice', 3600);
    const alice = await suite.connect(undefined, { token });
    expect(suite.realtime.getConnection(alice.connectionId)?.expiresAt).toBe(expiresAt);
    expiry().check(expiresAt - 60_001);
    await alice.sync();
    expect(alice.pending((frame) => frame.type === 'system:token_expiring')).toEqual([]);
    expiry().check(expiresAt - 60_000);
    expect((await alice.nextOfType('system:token_expiring')).payload).toEqual({ expiresAt });
    expiry().check(expiresAt);
    expect(await alice.closed).toEqual({ code: CloseCode.TOKEN_EXPIRED, reason: 'Token expired' });
  });

  it('moves the deadline on a refresh with a fresh token of the same user, acked with the new expiry', async () => {
    const first = await tokenFor('bob', 3600);
    const bob = await suite.connect(undefined, { token: first.token });
    await bob.subscribe('room:1');
    const fresh = await tokenFor('bob', 7200);
    const ack = await bob.request({ type: 'refresh', payload: { token: fresh.token } });
    expect(ack).toMatchObject({ type: 'ack', payload: { expiresAt: fresh.expiresAt } });
    expect(suite.realtime.getConnection(bob.connectionId)?.expiresAt).toBe(fresh.expiresAt);
    // Past the old deadline: still open, still subscribed.
    expiry().check(first.expiresAt + 1);
    await bob.sync();
    expect(suite.realtime.getConnection(bob.connectionId)?.channels).toEqual(['room:1']);
  });

  it.each([
    [
      'a token of another user',
      async () => (await tokenFor('mallory', 3600)).token,
      ErrorCode.UNAUTHORIZED,
      'The token is for another user',
    ],
    [
      'an expired token',
      async () => (await tokenFor('carol', -120)).token,
      ErrorCode.UNAUTHORIZED,
      'The token was refused',
    ],
    ['no token', () => Promise.resolve(undefined), ErrorCode.BAD_REQUEST, '"payload.token" must be a token'],
  ])('refuses a refresh with %s, and the old deadline stands', async (_case, token, code, message) => {
    const first = await tokenFor('carol', 3600);
    const carol = await suite.connect(undefined, { token: first.token });
    const answer = await carol.request({ type: 'refresh', payload: { token: await token() } });
    expect(answer).toMatchObject({ type: 'error', error: { code, message } });
    expect(suite.realtime.getConnection(carol.connectionId)?.expiresAt).toBe(first.expiresAt);
  });

  it('the client SDK refreshes by itself on the warning, with getToken, without reconnecting', async () => {
    const tokens = [await tokenFor('dana', 3600), await tokenFor('dana', 7200)];
    let asked = 0;
    const client = new RealtimeClient(`${suite.server.url.replace('http', 'ws')}/realtime`, {
      WebSocket,
      getToken: () => tokens[Math.min(asked++, 1)].token,
    });
    try {
      await client.connect();
      const connectionId = client.connectionId!;
      expiry().check(tokens[0].expiresAt - 60_000);
      const refreshed = await waitUntil(
        () => suite.realtime.getConnection(connectionId)?.expiresAt === tokens[1].expiresAt,
        5000,
      );
      expect(refreshed).toBe(true);
      expect(client.connectionId).toBe(connectionId);
    } finally {
      client.close();
    }
  });
});
