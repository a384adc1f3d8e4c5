import { binaryFrame, containsBytes, internalText, readBinaryFrame, referenceReviver, splitBytes } from './binary.js';
import type { RealtimeEnvelope, EnvelopeMetadata, ErrorBody, FrameId, InboundFrame } from './envelope.js';
import { ErrorCode } from './error-codes.js';
import { PROTOCOL_LIMITS, isValidChannelName, isValidName } from './limits.js';

export interface DecodeOptions {
  readonly maxChannelNameLength: number;
}

export type DecodeResult =
  | { readonly ok: true; readonly frame: InboundFrame }
  | { readonly ok: false; readonly error: ErrorBody; readonly replyTo?: FrameId };

/**
 * Decodes and validates one client text frame. Never throws: any input gives either a frame whose every field has
 * the documented type, or a `BAD_REQUEST` error (with `replyTo` when a valid `id` could be read).
 * The frame is built field by field; unknown and server-only fields (`sender`, `timestamp`, `offset`) are dropped.
 */
export function decodeFrame(text: string, options: DecodeOptions): DecodeResult {
  let parsed: unknown;
  try {
    // `JSON.parse` makes a `__proto__` key an own property; a later merge or transform could then change a
    // prototype. Dropping such keys costs a reviver call per value, so only frames that could hold one pay it: those
    // with the text, or with a `\u` escape (`"\u005f_proto__"` is the same key).
    parsed = mayHoldProtoKey(text) ? JSON.parse(text, dropProtoKeys) : JSON.parse(text);
  } catch {
    return badRequest('Frame is not valid JSON');
  }
  return validateFrame(parsed, options);
}

/**
 * Validates a decoded frame value (from JSON or MessagePack): a frame whose every field has the documented type, or
 * a `BAD_REQUEST`. Never throws. The value must not hold own `__proto__` keys: decoders drop them (JSON, here) or
 * rename them (msgpackr).
 */
export function validateFrame(parsed: unknown, options: DecodeOptions): DecodeResult {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return badRequest('Frame must be an object (a JSON object, or a MessagePack map)');
  }
  const raw = parsed as Record<string, unknown>;

  let id: FrameId | undefined;
  if (raw.id != null) {
    if (!isValidId(raw.id)) {
      return badRequest(`"id" must be a string of 1 to ${PROTOCOL_LIMITS.idMaxLength} characters or a safe integer`);
    }
    id = raw.id;
  }
  const type = raw.type;
  if (typeof type !== 'string') {
    return badRequest('"type" must be a string', id);
  }
  if (!isValidName(type)) {
    return badRequest(
      `"type" must be 1 to ${PROTOCOL_LIMITS.nameMaxLength} letters, digits or "_ . : / -" characters`,
      id,
    );
  }

  let channel: string | undefined;
  if (raw.channel != null) {
    if (typeof raw.channel !== 'string' || !isValidChannelName(raw.channel, options.maxChannelNameLength)) {
      return badRequest(
        `"channel" must be 1 to ${options.maxChannelNameLength} letters, digits or "_ . : @ = + / -" characters`,
        id,
      );
    }
    channel = raw.channel;
  }

  let recipient: string | undefined;
  if (raw.recipient != null) {
    if (
      typeof raw.recipient !== 'string' ||
      raw.recipient.length === 0 ||
      raw.recipient.length > PROTOCOL_LIMITS.recipientMaxLength
    ) {
      return badRequest(`"recipient" must be a string of 1 to ${PROTOCOL_LIMITS.recipientMaxLength} characters`, id);
    }
    recipient = raw.recipient;
  }

  let event: string | undefined;
  if (raw.event != null) {
    if (typeof raw.event !== 'string' || !isValidName(raw.event)) {
      return badRequest(
        `"event" must be 1 to ${PROTOCOL_LIMITS.nameMaxLength} letters, digits or "_ . : / -" characters`,
        id,
      );
    }
    event = raw.event;
  }

  let since: number | undefined;
  if (raw.since != null) {
    if (typeof raw.since !== 'number' || !Number.isSafeInteger(raw.since) || raw.since < 0) {
      return badRequest('"since" must be an offset: an integer from 0', id);
    }
    since = raw.since;
  }

  let epoch: string | undefined;
  if (raw.epoch != null) {
    if (typeof raw.epoch !== 'string' || raw.epoch.length === 0 || raw.epoch.length > PROTOCOL_LIMITS.epochMaxLength) {
      return badRequest(`"epoch" must be a string of 1 to ${PROTOCOL_LIMITS.epochMaxLength} characters`, id);
    }
    epoch = raw.epoch;
  }

  let limit: number | undefined;
  if (raw.limit != null) {
    if (
      typeof raw.limit !== 'number' ||
      !Number.isSafeInteger(raw.limit) ||
      raw.limit < 1 ||
      raw.limit > PROTOCOL_LIMITS.historyMaxSize
    ) {
      return badRequest(`"limit" must be an integer from 1 to ${PROTOCOL_LIMITS.historyMaxSize}`, id);
    }
    limit = raw.limit;
  }

  let metadata: EnvelopeMetadata | undefined;
  if (raw.metadata != null) {
    const result = readMetadata(raw.metadata);
    if (typeof result === 'string') {
      return badRequest(result, id);
    }
    metadata = result;
  }

  const frame: InboundFrame = {
    type,
    id,
    channel,
    recipient,
    event,
    since,
    epoch,
    limit,
    payload: raw.payload,
    metadata,
  };
  return { ok: true, frame };
}

/**
 * Decodes a binary frame of `realtime.v1`: the JSON envelope, a newline, the bytes its `{"$bin":[start,length]}`
 * references point into (see `binary.ts`). The references become `Buffer`s. Never throws.
 */
export function decodeBinaryFrame(data: Buffer, options: DecodeOptions): DecodeResult {
  const parts = readBinaryFrame(data);
  if (typeof parts === 'string') {
    return badRequest(parts);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(parts.json, referenceReviver(parts.bytes));
  } catch (error) {
    return badRequest(error instanceof RangeError ? error.message : 'The JSON before the newline is not valid JSON');
  }
  return validateFrame(parsed, options);
}

/**
 * Encodes a server envelope in the library's internal form: JSON text, or for an envelope with bytes the JSON, a
 * newline and the bytes in base64 (what brokers and history stores carry). Throws a `TypeError` naming the type
 * when the payload is not JSON.
 */
export function encodeEnvelope(envelope: RealtimeEnvelope): string {
  return encoding(envelope, (value) =>
    containsBytes(value.payload) ? internalText(splitBytes(value)) : JSON.stringify(value),
  );
}

/** Encodes a server envelope for a `realtime.v1` connection: a JSON text frame, or a binary frame when it has bytes. */
export function encodeEnvelopeFrame(envelope: RealtimeEnvelope): string | Buffer {
  return encoding(envelope, (value) =>
    containsBytes(value.payload) ? binaryFrame(splitBytes(value)) : JSON.stringify(value),
  );
}

function encoding<T>(envelope: RealtimeEnvelope, encode: (envelope: RealtimeEnvelope) => T): T {
  try {
    return encode(envelope);
  } catch (error) {
    throw new TypeError(
      `Cannot encode a "${envelope.type}" message as JSON: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/** A frame id: a string of 1 to 64 characters or a safe integer. */
export function isValidId(value: unknown): value is FrameId {
  if (typeof value === 'string') {
    return value.length > 0 && value.length <= PROTOCOL_LIMITS.idMaxLength;
  }
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function readMetadata(value: unknown): EnvelopeMetadata | string {
  const problem = `"metadata" must be an object of at most ${PROTOCOL_LIMITS.metadataMaxEntries} string values`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return problem;
  }
  const entries = Object.entries(value);
  if (entries.length > PROTOCOL_LIMITS.metadataMaxEntries) {
    return problem;
  }
  const metadata: Record<string, string> = {};
  for (const [key, entry] of entries) {
    if (
      typeof entry !== 'string' ||
      key.length > PROTOCOL_LIMITS.metadataKeyMaxLength ||
      entry.length > PROTOCOL_LIMITS.metadataValueMaxLength
    ) {
      return `${problem} (keys up to ${PROTOCOL_LIMITS.metadataKeyMaxLength}, values up to ${PROTOCOL_LIMITS.metadataValueMaxLength} characters)`;
    }
    metadata[key] = entry;
  }
  return metadata;
}

function mayHoldProtoKey(text: string): boolean {
  return text.includes('__proto__') || text.includes('\\u');
}

function dropProtoKeys(key: string, value: unknown): unknown {
  return key === '__proto__' ? undefined : value;
}

function badRequest(message: string, replyTo?: FrameId): DecodeResult {
  const error: ErrorBody = { code: ErrorCode.BAD_REQUEST, message };
  return replyTo === undefined ? { ok: false, error } : { ok: false, error, replyTo };
}
