import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { CHANNEL_OPTION_KEYS, DEFAULT_PRESENCE, HISTORY_OPTION_KEYS } from '../../lib/channels/channel-options.js';
import { NATS_OPTION_KEYS } from '../../lib/nats/nats-options.js';
import { REALTIME_OPTION_KEYS } from '../../lib/realtime.options.js';
import { REDIS_OPTION_KEYS } from '../../lib/redis/redis-options.js';

const root = new URL('../../', import.meta.url);

/** The first-column names of the table whose header row starts with `header`, in a page of docs/. */
function tableKeys(page: string, header: string): string[] {
  const lines = readFileSync(new URL(`docs/${page}`, root), 'utf8').split('\n');
  const start = lines.findIndex((line) => line.startsWith(header));
  if (start === -1) {
    throw new Error(`docs/${page} has no table headed "${header}"`);
  }
  const keys: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) {
      break;
    }
    const name = /^\| `([^`]+)`/.exec(line)?.[1];
    if (name !== undefined) {
      keys.push(name);
    }
  }
  return keys;
}

/** Each key once, and nothing else. */
function expectExactly(documented: string[], known: readonly string[]): void {
  expect([...documented].sort()).toEqual([...new Set(known)].sort());
}

describe('the option tables of docs/ list every option, once, and no other', () => {
  it('RealtimeModule options: docs/options.md and the protection table of docs/security.md', () => {
    const rows = [...tableKeys('options.md', '| option '), ...tableKeys('security.md', '| option ')];
    // `backpressure.maxBufferedBytes` documents `backpressure`, unless it has a row of its own.
    const plain = rows.filter((key) => !key.includes('.'));
    const roots = rows.filter((key) => key.includes('.')).map((key) => key.split('.')[0]);
    expectExactly([...plain, ...new Set(roots.filter((root) => !plain.includes(root)))], REALTIME_OPTION_KEYS);
  });

  it('@Channel options, with their presence and history keys: docs/channels.md', () => {
    const presence = Object.keys(DEFAULT_PRESENCE).map((key) => `presence.${key}`);
    const history = HISTORY_OPTION_KEYS.filter((key) => key !== 'size').map((key) => `history.${key}`);
    expectExactly(tableKeys('channels.md', '| option '), [...CHANNEL_OPTION_KEYS, ...presence, ...history]);
  });

  it('redisRealtime options: docs/scaling.md', () => {
    expectExactly(tableKeys('scaling.md', '| `redisRealtime` option'), REDIS_OPTION_KEYS);
  });

  it('natsRealtime options: docs/scaling.md', () => {
    expectExactly(tableKeys('scaling.md', '| `natsRealtime` option'), NATS_OPTION_KEYS);
  });
});
