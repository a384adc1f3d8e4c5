import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { resolveChannelOptions } from '../../lib/channels/channel-options.js';
import { presenceInfoProblem } from '../../lib/presence/presence-info.js';
import { decodeServerFrame, encodeClientFrame } from '../../lib/client/binary-frames.js';
import { parseInternalText } from '../../lib/protocol/binary.js';
import {
  type DecodeResult,
  decodeBinaryFrame,
  decodeFrame,
  encodeEnvelope,
  encodeEnvelopeFrame,
} from '../../lib/protocol/codec.js';
import { ErrorCode } from '../../lib/protocol/error-codes.js';
import { PROTOCOL_LIMITS, isValidChannelName, isValidName } from '../../lib/protocol/limits.js';
import { RealtimeOptionsError, resolveRealtimeOptions } from '../../lib/realtime.options.js';

const options = { maxChannelNameLength: 128 };
const RUNS = { numRuns: 2000 };

/** Every field of an accepted frame has its documented type; a refusal is a clean BAD_REQUEST. */
function assertWellFormed(result: DecodeResult): void {
  if (!result.ok) {
    expect(result.error.code).toBe(ErrorCode.BAD_REQUEST);
    expect(typeof result.error.message).toBe('string');
    if (result.replyTo !== undefined) {
      expect(['string', 'number']).toContain(typeof result.replyTo);
    }
    return;
  }
  const { frame } = result;
  expect(isValidName(frame.type)).toBe(true);
  if (frame.id !== undefined) {
    expect(typeof frame.id === 'number' ? Number.isSafeInteger(frame.id) : frame.id.length > 0).toBe(true);
  }
  if (frame.channel !== undefined) {
    expect(isValidChannelName(frame.channel, options.maxChannelNameLength)).toBe(true);
  }
  if (frame.event !== undefined) {
    expect(isValidName(frame.event)).toBe(true);
  }
  if (frame.recipient !== undefined) {
    expect(typeof frame.recipient).toBe('string');
  }
  if (frame.since !== undefined) {
    expect(Number.isSafeInteger(frame.since) && frame.since >= 0).toBe(true);
  }
  if (frame.limit !== undefined) {
    expect(frame.limit >= 1 && frame.limit <= PROTOCOL_LIMITS.historyMaxSize).toBe(true);
  }
  if (frame.epoch !== undefined) {
    expect(typeof frame.epoch).toBe('string');
  }
  if (frame.metadata !== undefined) {
    expect(Object.values(frame.metadata).every((value) => typeof value === 'string')).toBe(true);
  }
  expect(Object.keys(frame).every((key) => KNOWN_FIELDS.has(key))).toBe(true);
}

const KNOWN_FIELDS = new Set([
  'type',
  'id',
  'channel',
  'recipient',
  'event',
  'since',
  'epoch',
  'limit',
  'payload',
  'metadata',
]);

/** No own `__proto__` key anywhere in a decoded value. */
function hasProtoKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) {
    return true;
  }
  return Object.values(value).some(hasProtoKey);
}

/** Frame-like objects: the real field names with values of any type, plus hostile keys. */
const frameLike = fc.dictionary(
  fc.constantFrom(...KNOWN_FIELDS, 'sender', 'offset', '__proto__', 'constructor', 'prototype'),
  fc.oneof(
    fc.jsonValue(),
    fc.constantFrom('chat:group', 'room:1', 'subscribe', 'typing', 'a'.repeat(65)),
    fc.integer(),
    fc.double(),
  ),
);

describe('decodeFrame, property-based', () => {
  it('never throws on any text, and answers a well-formed frame or BAD_REQUEST', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        assertWellFormed(decodeFrame(text, options));
      }),
      RUNS,
    );
  });

  it('never throws on any bytes read as UTF-8', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        assertWellFormed(decodeFrame(Buffer.from(bytes).toString('utf8'), options));
      }),
      RUNS,
    );
  });

  it('never throws on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        assertWellFormed(decodeFrame(JSON.stringify(value), options));
      }),
      RUNS,
    );
  });

  it('keeps frame-like objects with hostile keys well-formed, with no __proto__ left and nothing polluted', () => {
    const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
    fc.assert(
      fc.property(frameLike, fc.jsonValue(), (fields, nested) => {
        // Written as text: a `__proto__` key in an object literal would set a prototype, not a key.
        const rest = JSON.stringify(fields).slice(1, -1);
        const payload = `{"__proto__":{"polluted":true},"nested":${JSON.stringify(nested)}}`;
        const text = `{"payload":${payload}${rest === '' ? '' : `,${rest}`}}`;
        const result = decodeFrame(text, options);
        assertWellFormed(result);
        if (result.ok) {
          expect(hasProtoKey(result.frame)).toBe(false);
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      RUNS,
    );
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
  });

  it('accepts every valid frame as it was sent', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9_.:/-]{1,64}$/);
    const valid = fc.record(
      {
        type: name,
        id: fc.oneof(fc.string({ minLength: 1, maxLength: 64 }), fc.maxSafeInteger()),
        channel: fc.stringMatching(/^[A-Za-z0-9_.:@=+/-]{1,128}$/),
        event: name,
        since: fc.nat(),
        limit: fc.integer({ min: 1, max: PROTOCOL_LIMITS.historyMaxSize }),
        // `__proto__` keys are dropped by design (another property covers them).
        payload: fc.jsonValue().filter((value) => !JSON.stringify(value).includes('"__proto__"')),
      },
      { requiredKeys: ['type'] },
    );
    fc.assert(
      fc.property(valid, (frame) => {
        const result = decodeFrame(JSON.stringify(frame), options);
        expect(result.ok).toBe(true);
        if (result.ok) {
          expect(JSON.parse(JSON.stringify(result.frame))).toEqual(JSON.parse(JSON.stringify(frame)));
        }
      }),
      RUNS,
    );
  });
});

/** JSON values with bytes (Buffers) anywhere in them. */
const withBytes = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    // `__proto__` keys are dropped by design (another property covers them).
    fc.jsonValue({ maxDepth: 1 }).filter((value) => !JSON.stringify(value).includes('"__proto__"')),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.string({ maxLength: 8 }).filter((key) => key !== '__proto__'),
      tie('value'),
      { maxKeys: 4 },
    ),
  ),
})).value;

/** What a value looks like once decoded: Buffers and Uint8Arrays compared as byte lists. */
function normalized(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, function (this: Record<string, unknown>, key: string, encoded: unknown) {
      const original = this[key];
      return original instanceof Uint8Array ? { bytes: [...original] } : encoded;
    }),
  );
}

describe('binary frames, property-based', () => {
  it('decodeBinaryFrame never throws on any bytes, and answers a well-formed frame or BAD_REQUEST', () => {
    const framed = fc
      .tuple(frameLike, fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat({ max: 80 }), { maxLength: 2 }))
      .map(([fields, bytes, range]) => {
        const json = JSON.stringify({ ...fields, payload: { $bin: range } });
        return Buffer.concat([Buffer.from(`${json}\n`), bytes]);
      });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
          framed,
        ),
        (data) => {
          assertWellFormed(decodeBinaryFrame(data, options));
        },
      ),
      RUNS,
    );
  });

  it('server frames read by the client SDK, and client frames read by the server, keep every byte and value', () => {
    fc.assert(
      fc.property(withBytes, (payload) => {
        const fromServer = encodeEnvelopeFrame({ type: 'file', payload });
        expect(normalized((decodeServerFrame(fromServer) as { payload: unknown }).payload)).toEqual(
          normalized(payload),
        );
        const internal = encodeEnvelope({ type: 'file', payload });
        expect(normalized((parseInternalText(internal) as { payload: unknown }).payload)).toEqual(normalized(payload));
        const fromClient = encodeClientFrame({ type: 'file', payload });
        const decoded =
          typeof fromClient === 'string'
            ? decodeFrame(fromClient, options)
            : decodeBinaryFrame(Buffer.from(fromClient), options);
        expect(decoded.ok).toBe(true);
        expect(normalized(decoded.ok ? decoded.frame.payload : undefined)).toEqual(normalized(payload));
      }),
      RUNS,
    );
  });

  it('drops __proto__ keys in the JSON of a binary frame', () => {
    const data = Buffer.from('{"type":"x","payload":{"__proto__":{"polluted":true},"b":{"$bin":[0,1]}}}\n\u0001');
    const result = decodeBinaryFrame(data, options);
    expect(result.ok && hasProtoKey(result.frame)).toBe(false);
    expect(result.ok && (result.frame.payload as { b: Buffer }).b).toEqual(Buffer.from([1]));
  });
});

describe('validation, property-based', () => {
  it('module options: any input is either accepted or refused with a RealtimeOptionsError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.dictionary(
            fc.constantFrom('path', 'port', 'rateLimit', 'backpressure', 'maxConnections', 'allowedOrigins'),
            fc.anything(),
          ),
        ),
        (input) => {
          try {
            resolveRealtimeOptions(input as never);
          } catch (error) {
            expect(error).toBeInstanceOf(RealtimeOptionsError);
          }
        },
      ),
      RUNS,
    );
  });

  it('channel options: any input is either accepted or refused with an error naming the pattern', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), fc.dictionary(fc.constantFrom('presence', 'history', 'whispers'), fc.anything())),
        (input) => {
          try {
            resolveChannelOptions('room:{id}', input as never);
          } catch (error) {
            expect((error as Error).message).toMatch(/^@Channel\("room:\{id\}"\) options: /);
          }
        },
      ),
      RUNS,
    );
  });

  it('presence info: any value is either accepted or described, never thrown', () => {
    fc.assert(
      fc.property(fc.anything(), (info) => {
        const problem = presenceInfoProblem(info, 256);
        expect(problem === undefined || typeof problem === 'string').toBe(true);
      }),
      RUNS,
    );
  });
});
