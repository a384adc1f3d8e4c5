/** How much metadata one connection may hold: it lives as long as the connection, on every connection. */
export interface MetadataLimits {
  /** Keys at most. */
  readonly maxEntries: number;
  /** Bytes at most, as JSON. */
  readonly maxBytes: number;
}

/** The limits the module options set. */
export function metadataLimitsOf(options: {
  readonly maxMetadataEntries: number;
  readonly maxMetadataBytes: number;
}): MetadataLimits {
  return { maxEntries: options.maxMetadataEntries, maxBytes: options.maxMetadataBytes };
}

/** What is wrong with a connection's metadata against the limits, or undefined when it is fine. */
export function metadataProblem(metadata: unknown, limits: MetadataLimits): string | undefined {
  if (!isObject(metadata)) {
    return `metadata must be an object, got ${metadata === null ? 'null' : Array.isArray(metadata) ? 'an array' : typeof metadata}`;
  }
  const entries = Object.keys(metadata).length;
  if (entries > limits.maxEntries) {
    return `metadata has ${entries} keys, more than maxMetadataEntries (${limits.maxEntries})`;
  }
  let encoded: string;
  try {
    encoded = JSON.stringify(metadata);
  } catch (error) {
    return `metadata must be JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  const bytes = Buffer.byteLength(encoded);
  if (bytes > limits.maxBytes) {
    return `metadata is ${bytes} bytes as JSON, more than maxMetadataBytes (${limits.maxBytes})`;
  }
  return undefined;
}

/**
 * The metadata after a patch: each key of `patch` set, a key set to `undefined` removed. Returns a new frozen
 * object (readers holding the old one keep a consistent view). Throws a `TypeError` for a patch that is not an
 * object or names `__proto__`, and a `RangeError` when the result would pass the limits; nothing changes then.
 */
export function patchMetadata(
  current: Readonly<Record<string, unknown>>,
  patch: unknown,
  limits: MetadataLimits,
): Readonly<Record<string, unknown>> {
  if (!isObject(patch)) {
    throw new TypeError(
      `setMetadata expects an object of keys to set (undefined removes one), got ${
        patch === null ? 'null' : Array.isArray(patch) ? 'an array' : typeof patch
      }`,
    );
  }
  const next: Record<string, unknown> = { ...current };
  for (const key of Object.keys(patch)) {
    if (key === '__proto__') {
      throw new TypeError('setMetadata cannot set a "__proto__" key');
    }
    const value = patch[key];
    if (value === undefined) {
      delete next[key];
    } else {
      next[key] = value;
    }
  }
  const problem = metadataProblem(next, limits);
  if (problem !== undefined) {
    throw new RangeError(`Cannot set the connection's metadata: ${problem}`);
  }
  return Object.freeze(next);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
