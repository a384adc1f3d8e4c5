import { describe, expect, it } from '@jest/globals';
import { LocalBroker, REALTIME_DEFAULTS } from 'nestjs-realtime';
import { resolveRealtimeOptions } from '../lib/realtime.options.js';

describe('resolveRealtimeOptions', () => {
  it('applies safe defaults', () => {
    expect(resolveRealtimeOptions({})).toEqual({
      path: '/realtime',
      port: undefined,
      host: undefined,
      authenticate: undefined,
      heartbeatIntervalMs: 25_000,
      heartbeatTimeoutMs: 50_000,
      drainTimeoutMs: 5_000,
      maxPayloadBytes: 65_536,
      maxChannelNameLength: 128,
      broker: undefined,
      presenceStore: undefined,
      historyStore: undefined,
      maxPresenceInfoBytes: 1024,
    });
    expect(REALTIME_DEFAULTS.maxPayloadBytes).toBe(64 * 1024);
  });

  it('keeps valid values', () => {
    const broker = new LocalBroker();
    expect(resolveRealtimeOptions({ path: '/ws', port: 0, drainTimeoutMs: 0, broker })).toMatchObject({
      path: '/ws',
      port: 0,
      drainTimeoutMs: 0,
      broker,
    });
  });

  it.each([
    [null, 'must be an object'],
    [{ path: '/a b' }, '"path"'],
    [{ path: '/a?b' }, '"path"'],
    [{ host: '' }, '"host"'],
    [{ maxChannelNameLength: 0 }, '"maxChannelNameLength"'],
    [{ maxPayloadBytes: 10 }, '"maxPayloadBytes"'],
    [{ heartbeatIntervalMs: Number.NaN }, '"heartbeatIntervalMs"'],
    [{ maxPresenceInfoBytes: 1 }, '"maxPresenceInfoBytes": expected an integer number of bytes from 2 to 65536, got 1'],
    [{ presenceStore: {} }, '"presenceStore": expected a PresenceStore instance, got an instance of Object'],
    [{ historyStore: new Map() }, '"historyStore": expected a HistoryStore instance, got an instance of Map'],
    [{ broker: { publish: () => undefined } }, '"broker": expected a Broker instance'],
  ])('rejects %j', (options, message) => {
    expect(() => resolveRealtimeOptions(options as never)).toThrow(message);
  });
});
