import { Duplex } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { rejectHandshake } from '../../lib/server/reject-handshake.js';

/** A socket as the HTTP server hands it to an `upgrade` listener: no error listener left on it. */
function handedOverSocket(): { socket: Duplex; written: Buffer[] } {
  const written: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk);
      done();
    },
  });
  return { socket, written };
}

describe('rejectHandshake', () => {
  it('answers with the status and a JSON body, then closes the socket', async () => {
    const { socket, written } = handedOverSocket();
    const closed = new Promise((resolve) => socket.once('close', resolve));
    rejectHandshake(socket, 403, 'Origin not allowed');
    await closed;
    const answer = Buffer.concat(written).toString();
    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(answer).toContain('{"statusCode":403,"message":"Origin not allowed","error":"Forbidden"}');
  });

  it('survives a reset while its answer is written (an error with no other listener would crash the process)', () => {
    const { socket } = handedOverSocket();
    expect(socket.listenerCount('error')).toBe(0);
    rejectHandshake(socket, 429, 'Too many connections from this address');
    expect(() =>
      socket.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })),
    ).not.toThrow();
  });
});
