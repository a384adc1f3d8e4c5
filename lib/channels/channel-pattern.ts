import { RealtimeOptionsError } from '../util/option-checks.js';
import { isValidChannelName } from '../protocol/limits.js';

/**
 * A compiled `@Channel` pattern: segments separated by `:`, each a literal, a `{param}` that binds the segment, or a
 * `*` that matches any one segment; the last may be `{param...}`, which binds the rest of the channel, one segment
 * or more. `room:{roomId}` matches `room:42` with `{ roomId: '42' }`; `events:{name...}` matches `events:deploy:eu`
 * with `{ name: 'deploy:eu' }`.
 */
export interface ChannelPattern {
  /** The pattern as declared. */
  readonly source: string;
  /** The pattern with every param written `*` (a rest param `**`): two patterns with the same key match the same channels. */
  readonly key: string;
  /** Orders overlapping patterns: the one with a literal at the first differing segment sorts first. */
  readonly rank: string;
  /** How many segments it matches; with a rest param, at least this many. */
  readonly segmentCount: number;
  /** Whether it ends with a rest param (`{name...}`). */
  readonly rest: boolean;
  match(channel: string): Record<string, string> | null;
}

const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)(\.\.\.)?\}$/;

/** Compiles a pattern; throws an error naming the pattern and the bad segment. */
export function compileChannelPattern(source: string): ChannelPattern {
  if (typeof source !== 'string' || source.length === 0) {
    throw new RealtimeOptionsError(`Invalid channel pattern ${JSON.stringify(source)}: expected a non-empty string`);
  }
  const segments = source.split(':');
  const names: (string | null)[] = [];
  const keyParts: string[] = [];
  let rank = '';
  let regex = '^';
  let rest = false;
  for (const [index, segment] of segments.entries()) {
    if (index > 0) {
      regex += ':';
    }
    const param = PARAM.exec(segment);
    if (param?.[2] !== undefined && index !== segments.length - 1) {
      throw new RealtimeOptionsError(
        `Invalid channel pattern "${source}": "${segment}" binds the rest, so it must be the last segment`,
      );
    }
    if (param || segment === '*') {
      const name = param ? param[1] : null;
      if (name === '__proto__' || name === 'constructor' || name === 'prototype') {
        throw new RealtimeOptionsError(
          `Invalid channel pattern "${source}": "{${name}}" is not allowed as a parameter name`,
        );
      }
      if (name !== null && names.includes(name)) {
        throw new RealtimeOptionsError(`Invalid channel pattern "${source}": parameter "{${name}}" appears twice`);
      }
      names.push(name);
      rest = param?.[2] !== undefined;
      keyParts.push(rest ? '**' : '*');
      rank += rest ? '2' : '1';
      // A rest param: one segment or more, each non-empty (`:` between them, never at either end).
      regex += rest ? '([^:]+(?::[^:]+)*)' : '([^:]+)';
    } else if (isValidChannelName(segment, Number.MAX_SAFE_INTEGER)) {
      keyParts.push(segment);
      rank += '0';
      regex += escapeRegExp(segment);
    } else {
      throw new RealtimeOptionsError(
        `Invalid channel pattern "${source}": segment ${JSON.stringify(segment)} must be a literal ` +
          `(letters, digits, "_ . @ = + / -"), "*", "{name}" or, last, "{name...}"`,
      );
    }
  }
  const matcher = new RegExp(`${regex}$`);
  return {
    source,
    key: keyParts.join(':'),
    rank,
    segmentCount: segments.length,
    rest,
    match(channel: string): Record<string, string> | null {
      const found = matcher.exec(channel);
      if (!found) {
        return null;
      }
      const params: Record<string, string> = {};
      names.forEach((name, position) => {
        if (name !== null) {
          params[name] = found[position + 1];
        }
      });
      return params;
    },
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
