import { describe, expect, it } from '@jest/globals';
import * as ws from 'ws';
import { encodeFrame } from '../../lib/connection/outbound-frame.js';

// ws's own frame builder, the reference: a named export of the ESM build that @types/ws does not declare.
const reference = (ws as unknown as { Sender: { frame: (data: Buffer, options: object) => Buffer[] } }).Sender;

function wsFrame(payload: string | Buffer): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const opcode = typeof payload === 'string' ? 1 : 2;
  return Buffer.concat(reference.frame(data, { fin: true, rsv1: false, opcode, mask: false, readOnly: false }));
}

describe('encodeFrame', () => {
  // Every length form of RFC 6455: 7-bit up to 125, 16-bit up to 65535, 64-bit beyond.
  const lengths = [0, 1, 125, 126, 127, 65_535, 65_536, 70_000];

  it.each(lengths)('writes a %i-byte text frame byte for byte as ws does', (length) => {
    const text = 'a'.repeat(length);
    expect(encodeFrame(text).equals(wsFrame(text))).toBe(true);
  });

  it.each(lengths)('writes a %i-byte binary frame byte for byte as ws does', (length) => {
    const data = Buffer.alloc(length, 7);
    expect(encodeFrame(data).equals(wsFrame(data))).toBe(true);
  });

  it('measures text in UTF-8 bytes, not characters', () => {
    for (const text of ['é✓', '€'.repeat(42), '€'.repeat(43), '😀'.repeat(20_000)]) {
      expect(encodeFrame(text).equals(wsFrame(text))).toBe(true);
    }
  });
});
