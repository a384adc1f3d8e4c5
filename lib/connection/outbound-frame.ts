/**
 * A published message on its way to local connections: the encoded text (the internal form: JSON, or JSON and
 * base64 bytes after a newline), and, each made once on first use, what every connection of a wire format gets as
 * is: the data (a JSON text, or a binary frame for a message with bytes) and the whole WebSocket frame (header and
 * payload in one buffer). Socket.IO does the same for broadcasts; raw `ws` `send(string)` re-frames and re-encodes
 * the text per socket.
 */
export interface OutboundFrame {
  readonly text: string;
  /** False: never compressed with permessage-deflate (the app said its data is compressed already). */
  readonly compress: boolean;
  /** For `realtime.v1` connections: the data, and its frame. */
  data: string | Buffer | undefined;
  bytes: Buffer | undefined;
  /** For MessagePack connections: the message re-encoded once, and its binary frame. */
  packed: Buffer | undefined;
  packedBytes: Buffer | undefined;
}

export function outboundFrame(text: string, compress = true): OutboundFrame {
  return { text, compress, data: undefined, bytes: undefined, packed: undefined, packedBytes: undefined };
}

/** The frame of a message's data (JSON text or binary), given the data; built on first call and kept. */
export function frameBytes(frame: OutboundFrame, data: string | Buffer): Buffer {
  return (frame.bytes ??= encodeFrame(data));
}

/** The MessagePack binary frame of a message, given its packed payload; built on first call and kept. */
export function packedFrameBytes(frame: OutboundFrame, packed: Buffer): Buffer {
  return (frame.packedBytes ??= encodeFrame(packed));
}

const OPCODE_TEXT = 0x01;
const OPCODE_BINARY = 0x02;
const FIN = 0x80;

/**
 * A whole server-to-client WebSocket frame (RFC 6455 5.2: final, unmasked, no extension bits) in one buffer: a text
 * frame for a string, a binary frame for bytes. One buffer is one `write` on the socket, where ws's own `send` writes
 * the header and the payload as two chunks (a `writev`).
 */
export function encodeFrame(payload: string | Buffer): Buffer {
  const text = typeof payload === 'string';
  const length = text ? Buffer.byteLength(payload) : payload.length;
  const headerLength = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = FIN | (text ? OPCODE_TEXT : OPCODE_BINARY);
  if (headerLength === 2) {
    frame[1] = length;
  } else if (headerLength === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  if (text) {
    frame.write(payload, headerLength, length, 'utf8');
  } else {
    payload.copy(frame, headerLength);
  }
  return frame;
}
