import * as ws from 'ws';

/**
 * A published message on its way to local connections: the encoded text, and, built once on first use, the whole
 * WebSocket frame (header and payload in one buffer) that every connection gets as is. Socket.IO does the same for
 * broadcasts; raw `ws` `send(string)` re-frames and re-encodes the text per socket.
 */
export interface OutboundFrame {
  readonly text: string;
  bytes: Buffer | undefined;
  /** For MessagePack connections: the message re-encoded once, and its binary frame. */
  packed: Buffer | undefined;
  packedBytes: Buffer | undefined;
}

export function outboundFrame(text: string): OutboundFrame {
  return { text, bytes: undefined, packed: undefined, packedBytes: undefined };
}

interface FrameBuilder {
  frame(
    data: Buffer,
    options: { fin: boolean; rsv1: boolean; opcode: number; mask: boolean; readOnly: boolean },
  ): Buffer[];
}

/** `ws`'s frame builder: semi-internal, so feature-detected (ESM exposes it as the named export `Sender`). */
const builder = (ws as unknown as { Sender?: FrameBuilder }).Sender;

/** Whether frames can be pre-built with this `ws`; when not, every write falls back to `send(text)`. */
export const PREBUILT_FRAMES = typeof builder?.frame === 'function';

/** The frame's bytes: an unmasked, final text frame, built on first call and kept. */
export function frameBytes(frame: OutboundFrame): Buffer {
  return (frame.bytes ??= buildFrame(Buffer.from(frame.text), 1));
}

/** The MessagePack binary frame of a message, given its packed payload; built on first call and kept. */
export function packedFrameBytes(frame: OutboundFrame, packed: Buffer): Buffer {
  return (frame.packedBytes ??= buildFrame(packed, 2));
}

function buildFrame(data: Buffer, opcode: 1 | 2): Buffer {
  const parts = builder!.frame(data, { fin: true, rsv1: false, opcode, mask: false, readOnly: false });
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}
