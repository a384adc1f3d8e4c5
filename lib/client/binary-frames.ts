/**
 * Frames with bytes on `realtime.v1`, the client's side (browsers and Node alike: no `Buffer`). A binary frame is
 * the envelope as UTF-8 JSON, a newline, then the bytes; in the JSON each binary value stands as
 * `{"$bin":[start,length]}`, a reference into the bytes after the newline. Text frames are plain JSON.
 */

const REFERENCE_KEY = '$bin';
const NEWLINE = 0x0a;
const MAX_DEPTH = 32;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A `Uint8Array` (a Node `Buffer` is one) or an `ArrayBuffer`. */
export function isBytes(value: unknown): value is Uint8Array | ArrayBuffer {
  return value instanceof Uint8Array || value instanceof ArrayBuffer;
}

function containsBytes(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  if (isBytes(value)) {
    return true;
  }
  if (depth >= MAX_DEPTH) {
    return false;
  }
  const items: unknown[] = Array.isArray(value) ? value : Object.values(value);
  return items.some((item) => containsBytes(item, depth + 1));
}

/** A frame to send: JSON text, or a binary frame when the frame holds bytes. */
export function encodeClientFrame(frame: Record<string, unknown>): string | Uint8Array {
  if (!containsBytes(frame.payload, 0)) {
    return JSON.stringify(frame);
  }
  const parts: Uint8Array[] = [];
  let length = 0;
  const json = JSON.stringify(frame, function (this: Record<string, unknown>, key: string, encoded: unknown) {
    const original = this[key];
    if (!isBytes(original)) {
      return encoded;
    }
    const bytes = original instanceof ArrayBuffer ? new Uint8Array(original) : original;
    parts.push(bytes);
    const reference = { [REFERENCE_KEY]: [length, bytes.length] };
    length += bytes.length;
    return reference;
  });
  const head = encoder.encode(json);
  const out = new Uint8Array(head.length + 1 + length);
  out.set(head, 0);
  out[head.length] = NEWLINE;
  let at = head.length + 1;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Decodes a frame the server sent (a string, or bytes for a binary frame); throws on a malformed one. */
export function decodeServerFrame(data: unknown): unknown {
  if (typeof data === 'string') {
    return JSON.parse(data);
  }
  const bytes = asBytes(data);
  if (bytes === undefined) {
    throw new TypeError('Unsupported frame data');
  }
  const newline = bytes.indexOf(NEWLINE);
  if (newline === -1) {
    throw new TypeError('A binary frame without a newline');
  }
  const tail = bytes.subarray(newline + 1);
  return JSON.parse(decoder.decode(bytes.subarray(0, newline)), (_key, value: unknown) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return value;
    }
    const range = (value as Record<string, unknown>)[REFERENCE_KEY];
    if (Array.isArray(range) && range.length === 2 && Object.keys(value).length === 1) {
      const [start, count] = range as [number, number];
      return tail.subarray(start, start + count);
    }
    return value;
  });
}

function asBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) {
    return data;
  }
  if (data instanceof ArrayBuffer) {
    return new Uint8Array(data);
  }
  // `ws` in Node may hand over fragments as a list of buffers.
  if (Array.isArray(data) && data.every((part) => part instanceof Uint8Array)) {
    const parts = data;
    const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
  return undefined;
}
