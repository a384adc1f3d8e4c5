/**
 * Binary values over the JSON wire format (`realtime.v1`).
 *
 * A frame whose envelope holds bytes (a `Buffer`, a `Uint8Array` or an `ArrayBuffer`, as the payload or anywhere in
 * it) travels as one binary WebSocket frame: the envelope as UTF-8 JSON, a newline (0x0A), then the raw bytes of
 * every binary value, back to back. In the JSON each binary value stands as a reference `{"$bin":[start,length]}`
 * into the bytes after the newline. JSON text never holds a raw newline, so the first one ends it. Text frames
 * (envelopes without bytes) are plain JSON and never hold references.
 *
 * Inside the server, and between nodes and in history, a message is a string: plain JSON, or for one with bytes the
 * same JSON, a newline, and the bytes in base64 ("internal" form). It is turned into the wire form once per
 * publish, not per member.
 */

/** The key of a reference to binary data in the JSON of a binary frame. */
export const BINARY_REFERENCE_KEY = '$bin';

const NEWLINE = 0x0a;
/** Payloads nested deeper than this are not searched for bytes (JSON.stringify would refuse a cycle anyway). */
const MAX_DEPTH = 32;

/** Bytes as the library sends them: a `Buffer`, a `Uint8Array`, or an `ArrayBuffer`. */
export function isBytes(value: unknown): value is Uint8Array | ArrayBuffer {
  return value instanceof Uint8Array || value instanceof ArrayBuffer;
}

/** Whether a value holds bytes anywhere (depth-bounded). Cheap for the usual payloads: strings and small objects. */
export function containsBytes(value: unknown, depth = 0): boolean {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  if (isBytes(value)) {
    return true;
  }
  if (depth >= MAX_DEPTH) {
    return false;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      if (containsBytes(item, depth + 1)) {
        return true;
      }
    }
    return false;
  }
  for (const key in value) {
    if (containsBytes((value as Record<string, unknown>)[key], depth + 1)) {
      return true;
    }
  }
  return false;
}

/** An envelope with bytes, split: the JSON with references, and the bytes they point into. */
export interface SplitBytes {
  readonly json: string;
  readonly bytes: Buffer;
}

/** Encodes a value whose bytes become references; throws what `JSON.stringify` throws. */
export function splitBytes(value: unknown): SplitBytes {
  const parts: Buffer[] = [];
  let length = 0;
  const json = JSON.stringify(value, function (this: Record<string, unknown>, key: string, encoded: unknown) {
    // Buffer's toJSON has run already (`encoded` is `{type: 'Buffer', data}`): look at the original value.
    const original = this[key];
    if (!isBytes(original)) {
      return encoded;
    }
    const bytes = original instanceof ArrayBuffer ? Buffer.from(original) : bufferOf(original);
    parts.push(bytes);
    const reference = { [BINARY_REFERENCE_KEY]: [length, bytes.length] };
    length += bytes.length;
    return reference;
  });
  return { json, bytes: parts.length === 1 ? parts[0] : Buffer.concat(parts, length) };
}

/** The binary frame of a split value: JSON, newline, bytes, in one buffer. */
export function binaryFrame({ json, bytes }: SplitBytes): Buffer {
  const head = Buffer.byteLength(json);
  const frame = Buffer.allocUnsafe(head + 1 + bytes.length);
  frame.write(json, 0, head, 'utf8');
  frame[head] = NEWLINE;
  bytes.copy(frame, head + 1);
  return frame;
}

/** The internal form of a split value: JSON, newline, the bytes in base64. */
export function internalText({ json, bytes }: SplitBytes): string {
  return `${json}\n${bytes.toString('base64')}`;
}

/** Whether an internal message holds bytes (plain JSON never has a raw newline). */
export function isBinaryText(text: string): boolean {
  return text.includes('\n');
}

/** The wire form of an internal message with bytes: its binary frame. */
export function binaryFrameOfText(text: string): Buffer {
  const newline = text.indexOf('\n');
  return binaryFrame({ json: text.slice(0, newline), bytes: Buffer.from(text.slice(newline + 1), 'base64') });
}

/** Parses an internal message back to a value; its bytes, if any, become `Buffer`s. */
export function parseInternalText(text: string): unknown {
  const newline = text.indexOf('\n');
  if (newline === -1) {
    return JSON.parse(text);
  }
  const bytes = Buffer.from(text.slice(newline + 1), 'base64');
  return JSON.parse(text.slice(0, newline), referenceReviver(bytes));
}

/** The parts of a binary frame as a client sent it; a string when the frame is not one. */
export function readBinaryFrame(data: Buffer): { readonly json: string; readonly bytes: Buffer } | string {
  const newline = data.indexOf(NEWLINE);
  if (newline === -1) {
    return 'A binary frame holds the JSON envelope, a newline, then the bytes: no newline found';
  }
  return { json: data.toString('utf8', 0, newline), bytes: data.subarray(newline + 1) };
}

/**
 * A `JSON.parse` reviver that turns references into `Buffer`s over `bytes` (views, not copies) and drops
 * `__proto__` keys. Throws a `RangeError` for a reference outside the bytes.
 */
export function referenceReviver(bytes: Buffer): (key: string, value: unknown) => unknown {
  return (key, value) => {
    if (key === '__proto__') {
      return undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return value;
    }
    const range = (value as Record<string, unknown>)[BINARY_REFERENCE_KEY];
    if (range === undefined || Object.keys(value).length !== 1) {
      return value;
    }
    if (
      !Array.isArray(range) ||
      range.length !== 2 ||
      !Number.isSafeInteger(range[0]) ||
      !Number.isSafeInteger(range[1]) ||
      (range[0] as number) < 0 ||
      (range[1] as number) < 0 ||
      (range[0] as number) + (range[1] as number) > bytes.length
    ) {
      throw new RangeError(
        `"${BINARY_REFERENCE_KEY}" must be [start, length] within the ${bytes.length} bytes after the newline`,
      );
    }
    const start = range[0] as number;
    return bytes.subarray(start, start + (range[1] as number));
  };
}

function bufferOf(view: Uint8Array): Buffer {
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}
