import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { clientAddress } from '../../lib/server/client-address.js';

function request(forwarded?: string | string[]): IncomingMessage {
  return {
    socket: { remoteAddress: '10.0.0.2' },
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
  } as unknown as IncomingMessage;
}

describe('clientAddress', () => {
  it('is the socket peer without trusted proxies, whatever the header says', () => {
    expect(clientAddress(request('1.2.3.4'), 0)).toBe('10.0.0.2');
    expect(clientAddress(request(), 2)).toBe('10.0.0.2');
  });

  it('reads X-Forwarded-For right to left, past the trusted hops', () => {
    expect(clientAddress(request('1.1.1.1, 2.2.2.2'), 1)).toBe('2.2.2.2');
    expect(clientAddress(request('1.1.1.1, 2.2.2.2'), 2)).toBe('1.1.1.1');
    expect(clientAddress(request(['1.1.1.1', '2.2.2.2']), 1)).toBe('2.2.2.2');
  });

  it('stops at the leftmost entry when more hops are trusted than there are', () => {
    expect(clientAddress(request('1.1.1.1'), 5)).toBe('1.1.1.1');
    expect(clientAddress(request(' , '), 1)).toBe('10.0.0.2');
  });
});
