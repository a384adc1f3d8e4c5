import { binaryFrameOfText, isBinaryText, parseInternalText } from './binary.js';
import {
  type DecodeOptions,
  type DecodeResult,
  decodeBinaryFrame,
  decodeFrame,
  encodeEnvelopeFrame,
  validateFrame,
} from './codec.js';
import type { ErrorBody, RealtimeEnvelope } from './envelope.js';
import { ErrorCode } from './error-codes.js';
import { SUBPROTOCOL, SUBPROTOCOL_MSGPACK } from './message-types.js';

/** How one connection's frames are written on the wire: JSON text (`realtime.v1`) or MessagePack binary. */
export interface WireFormat {
  readonly subprotocol: string;
  readonly binary: boolean;
  decode(data: Buffer, isBinary: boolean, options: DecodeOptions): DecodeResult;
  encode(envelope: RealtimeEnvelope): string | Buffer;
  /**
   * Re-encodes an envelope in the internal form (published messages and history travel as JSON text, with bytes
   * after a newline in base64: see `binary.ts`).
   */
  fromJson(text: string): string | Buffer;
}

export const JSON_FORMAT: WireFormat = {
  subprotocol: SUBPROTOCOL,
  binary: false,
  decode(data, isBinary, options) {
    return isBinary ? decodeBinaryFrame(data, options) : decodeFrame(data.toString('utf8'), options);
  },
  encode: encodeEnvelopeFrame,
  fromJson: (text) => (isBinaryText(text) ? binaryFrameOfText(text) : text),
};

/** The two functions of a MessagePack library the binary format needs (msgpackr's `Packr`/`Unpackr`). */
export interface MessagePackCodec {
  pack(value: unknown): Buffer;
  unpack(data: Buffer): unknown;
}

/** `realtime.v1.msgpack`: the same envelopes as MessagePack maps, in binary frames. */
export function msgpackFormat(codec: MessagePackCodec): WireFormat {
  return {
    subprotocol: SUBPROTOCOL_MSGPACK,
    binary: true,
    decode(data, isBinary, options) {
      if (!isBinary) {
        return refuse('This connection speaks realtime.v1.msgpack: send MessagePack binary frames');
      }
      let value: unknown;
      try {
        value = codec.unpack(data);
      } catch {
        return refuse('Frame is not valid MessagePack');
      }
      return validateFrame(value, options);
    },
    encode: (envelope) => codec.pack(envelope),
    fromJson: (text) => codec.pack(parseInternalText(text)),
  };
}

function refuse(message: string): DecodeResult {
  const error: ErrorBody = { code: ErrorCode.BAD_REQUEST, message };
  return { ok: false, error };
}
