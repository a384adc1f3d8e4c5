/**
 * Checks a member's public info: a plain JSON object of at most `maxBytes` once encoded. Returns what is wrong with
 * it, or undefined when it is fine. The info travels in every `subscribed`, `system:presence` and join event of the
 * channel, so its size is bounded.
 */
export function presenceInfoProblem(info: unknown, maxBytes: number): string | undefined {
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    return `presence info must be a plain object, got ${info === null ? 'null' : Array.isArray(info) ? 'an array' : typeof info}`;
  }
  const prototype = Object.getPrototypeOf(info) as unknown;
  if (prototype !== Object.prototype && prototype !== null) {
    return 'presence info must be a plain object (a class instance would not survive JSON encoding unchanged)';
  }
  let encoded: string;
  try {
    encoded = JSON.stringify(info);
  } catch (error) {
    return `presence info must be JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  const bytes = Buffer.byteLength(encoded);
  if (bytes > maxBytes) {
    return `presence info is ${bytes} bytes as JSON, more than maxPresenceInfoBytes (${maxBytes})`;
  }
  return undefined;
}

/** Member info as a store kept it (JSON text); anything that is not a JSON object reads as `{}`. */
export function parseInfo(text: string): Readonly<Record<string, unknown>> {
  try {
    const info = JSON.parse(text) as unknown;
    return typeof info === 'object' && info !== null && !Array.isArray(info) ? (info as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
