import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { getHandshakeToken } from '../../lib/server/handshake-token.js';

function request(url: string, headers: Record<string, string> = {}): IncomingMessage {
  return { url, headers } as IncomingMessage;
}

describe('getHandshakeToken', () => {
  it('reads the token parameter of any query string exactly as URLSearchParams does', () => {
    const part = fc.oneof(
      fc.constantFrom('token', 'token=', 'token=a.b-c_d', 'tok', 'tokens=x', 'x=token', '', '=', 'token=a=b'),
      fc.string({ unit: fc.constantFrom('t', 'o', 'k', 'e', 'n', '=', '&', '%', '2', '0', '+', 'a', '.', '-') }),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 5 }), (parts) => {
        const search = parts.join('&');
        const expected = new URLSearchParams(search).get('token') ?? undefined;
        expect(getHandshakeToken(request(`/realtime?${search}`))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('prefers a bearer subprotocol entry, then the Authorization header, then the query', () => {
    const url = '/realtime?token=from-query';
    expect(getHandshakeToken(request(url, { 'sec-websocket-protocol': 'realtime.v1, bearer.from-protocol' }))).toBe(
      'from-protocol',
    );
    expect(getHandshakeToken(request(url, { authorization: 'Bearer from-header' }))).toBe('from-header');
    expect(getHandshakeToken(request(url))).toBe('from-query');
    expect(getHandshakeToken(request('/realtime'))).toBeUndefined();
  });
});
