import { describe, expect, it } from '@jest/globals';
import { decodeFrame, encodeEnvelope, type DecodeResult } from '../../lib/protocol/codec.js';
import { ErrorCode } from '../../lib/protocol/error-codes.js';

const options = { maxChannelNameLength: 128 };
const decode = (text: string): DecodeResult => decodeFrame(text, options);

function frameOf(text: string) {
  const result = decode(text);
  if (!result.ok) {
    throw new Error(`expected a frame, got ${JSON.stringify(result)}`);
  }
  return result.frame;
}

function errorOf(text: string) {
  const result = decode(text);
  if (result.ok) {
    throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  }
  return result;
}

describe('decodeFrame', () => {
  it('reads every client field', () => {
    const frame = {
      type: 'chat:group',
      id: 'a1',
      channel: 'room:1',
      recipient: 'bob',
      event: 'typing',
      since: 41,
      epoch: 'e-1',
      limit: 20,
      payload: { text: 'hi' },
      metadata: { trace: 'x' },
    };
    expect(frameOf(JSON.stringify(frame))).toEqual(frame);
  });

  it('never trusts server-only fields from a client, and drops unknown ones', () => {
    const frame = frameOf('{"type":"x","sender":"admin","timestamp":1,"offset":9,"replyTo":"z","error":{},"extra":1}');
    expect(Object.entries(frame).filter(([, value]) => value !== undefined)).toEqual([['type', 'x']]);
  });

  it('treats null optional fields as absent', () => {
    expect(frameOf('{"type":"x","id":null,"channel":null,"metadata":null}')).toMatchObject({
      id: undefined,
      channel: undefined,
      metadata: undefined,
    });
  });

  it('accepts integer ids and echoes them in errors', () => {
    expect(frameOf('{"type":"x","id":7}').id).toBe(7);
    expect(errorOf('{"type":"a b","id":7}').replyTo).toBe(7);
    expect(errorOf('{"type":"x","id":1.5}').error.code).toBe(ErrorCode.BAD_REQUEST);
    expect(errorOf(`{"type":"x","id":"${'i'.repeat(65)}"}`).error.code).toBe(ErrorCode.BAD_REQUEST);
  });

  it.each([
    ['an empty frame', ''],
    ['whitespace', '   '],
    ['truncated JSON', '{"type":"x"'],
    ['null', 'null'],
    ['a number', '42'],
    ['an array', '[{"type":"x"}]'],
    ['an empty type', '{"type":""}'],
    ['a long type', `{"type":"${'t'.repeat(65)}"}`],
    ['a type with a newline', '{"type":"a\\nb"}'],
    ['a boolean channel', '{"type":"x","channel":true}'],
    ['a channel with spaces', '{"type":"x","channel":"room 1"}'],
    ['a channel over the limit', `{"type":"x","channel":"${'c'.repeat(129)}"}`],
    ['an empty recipient', '{"type":"x","recipient":""}'],
    ['an event with symbols', '{"type":"x","event":"<script>"}'],
    ['metadata as an array', '{"type":"x","metadata":["a"]}'],
    ['metadata with a nested object', '{"type":"x","metadata":{"a":{"b":"c"}}}'],
    [
      'metadata with too many keys',
      JSON.stringify({ type: 'x', metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }),
    ],
    ['a lone surrogate type', '{"type":"\\ud800"}'],
    ['a negative since', '{"type":"subscribe","since":-1}'],
    ['a fractional since', '{"type":"subscribe","since":0.5}'],
    ['a string since', '{"type":"subscribe","since":"3"}'],
    ['an unsafe since', '{"type":"subscribe","since":9007199254740993}'],
    ['an empty epoch', '{"type":"subscribe","epoch":""}'],
    ['a numeric epoch', '{"type":"subscribe","epoch":5}'],
    ['an epoch over 64 characters', `{"type":"subscribe","epoch":"${'e'.repeat(65)}"}`],
    ['a zero limit', '{"type":"history","limit":0}'],
    ['a limit over 10000', '{"type":"history","limit":10001}'],
  ])('answers BAD_REQUEST to %s', (_case, text) => {
    expect(errorOf(text).error.code).toBe(ErrorCode.BAD_REQUEST);
  });

  it('drops __proto__ keys anywhere, so nothing downstream can change a prototype', () => {
    const frame = frameOf(
      '{"type":"x","__proto__":{"polluted":1},"payload":{"a":{"__proto__":{"polluted":2}},"list":[{"__proto__":{"p":3}}]},"metadata":{"__proto__":"x"}}',
    );
    const payload = frame.payload as { a: object; list: object[] };
    expect(Object.getPrototypeOf(frame)).toBe(Object.prototype);
    expect(Object.hasOwn(payload.a, '__proto__')).toBe(false);
    expect(Object.hasOwn(payload.list[0], '__proto__')).toBe(false);
    expect(frame.metadata).toEqual({});
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const merged = Object.assign({}, payload.a) as Record<string, unknown>;
    expect(merged.polluted).toBeUndefined();
  });

  it('drops __proto__ keys written with escapes, which are the same key once parsed', () => {
    const frame = frameOf(
      String.raw`{"type":"x","\u005f_proto__":{"polluted":1},"payload":{"a":{"__pr\u006fto__":{"polluted":2}}}}`,
    );
    const payload = frame.payload as { a: object };
    expect(Object.getPrototypeOf(frame)).toBe(Object.prototype);
    expect(Object.hasOwn(payload.a, '__proto__')).toBe(false);
    expect((Object.assign({}, payload.a) as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps "constructor" and "prototype" keys as plain data', () => {
    const frame = frameOf('{"type":"x","payload":{"constructor":{"prototype":{"bad":1}}}}');
    expect(frame.payload).toEqual({ constructor: { prototype: { bad: 1 } } });
    expect(({} as Record<string, unknown>).bad).toBeUndefined();
  });

  it('survives deep nesting without throwing', () => {
    const depth = 20_000;
    const text = `{"type":"x","payload":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const result = decode(text);
    expect(result.ok).toBe(true);
  });

  it('never throws on random bytes and random JSON-ish text (seeded)', () => {
    let seed = 0x2f6b;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const alphabet = '{}[]":,\\ntrufalsenul0123456789.-eE typechanelidpayload__proto__\u0000\uffff\ud800';
    for (let round = 0; round < 5000; round++) {
      const length = Math.floor(random() * 80);
      let text = '';
      for (let index = 0; index < length; index++) {
        text += alphabet[Math.floor(random() * alphabet.length)];
      }
      const result = decode(random() < 0.5 ? text : `{"type":"x","payload":${text}}`);
      if (!result.ok) {
        expect(result.error.code).toBe(ErrorCode.BAD_REQUEST);
      } else {
        expect(typeof result.frame.type).toBe('string');
      }
    }
  });
});

describe('encodeEnvelope', () => {
  it('encodes an envelope as one JSON object', () => {
    expect(JSON.parse(encodeEnvelope({ type: 'ack', replyTo: 1, payload: { a: 1 } }))).toEqual({
      type: 'ack',
      replyTo: 1,
      payload: { a: 1 },
    });
  });

  it('names the message type when a payload cannot be encoded', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => encodeEnvelope({ type: 'chat:group', payload: circular })).toThrow('Cannot encode a "chat:group"');
  });
});
