import { describe, expect, it } from '@jest/globals';
import { LocalBroker, REALTIME_DEFAULTS, jwtAuth } from 'nestjs-realtime';
import { natsRealtime } from 'nestjs-realtime/nats';
import { redisRealtime } from 'nestjs-realtime/redis';
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
      tokenExpiryWarningMs: 60_000,
      drainTimeoutMs: 5_000,
      maxPayloadBytes: 65_536,
      maxChannelNameLength: 128,
      broker: undefined,
      presenceStore: undefined,
      historyStore: undefined,
      maxPresenceInfoBytes: 1024,
      maxMetadataEntries: 32,
      maxMetadataBytes: 4096,
      msgpack: false,
      closeUnauthorized: false,
      directMessages: false,
      validation: undefined,
      asyncapi: undefined,
      perMessageDeflate: false,
      maxConnections: 10_000,
      maxConnectionsPerIp: 100,
      trustProxy: 0,
      maxConnectionsPerUser: 20,
      maxChannelsPerConnection: 100,
      handshakeTimeoutMs: 10_000,
      allowedOrigins: undefined,
      allowMissingOrigin: true,
      rateLimit: { limit: 100, windowMs: 1000, closeAfter: 100 },
      rateLimitStore: undefined,
      backpressure: {
        maxBufferedBytes: 1_048_576,
        maxBufferedMessages: 4096,
        policy: 'close',
        volatileBufferedBytes: 65_536,
        closeReason: 'Slow consumer',
        closeGraceMs: 1000,
      },
    });
    expect(REALTIME_DEFAULTS.maxPayloadBytes).toBe(64 * 1024);
  });

  it('takes perMessageDeflate: true as the documented settings, and fills in partial ones', () => {
    expect(resolveRealtimeOptions({ perMessageDeflate: true }).perMessageDeflate).toEqual({
      threshold: 1024,
      level: 1,
      memLevel: 8,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 15,
      contextTakeover: false,
    });
    expect(resolveRealtimeOptions({ perMessageDeflate: { level: 6 } }).perMessageDeflate).toMatchObject({
      level: 6,
      threshold: 1024,
    });
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
    [{ validation: 'yes' }, '"validation": expected a boolean or ValidationPipe options, got "yes"'],
    [{ host: '' }, '"host"'],
    [{ maxChannelNameLength: 0 }, '"maxChannelNameLength"'],
    [{ maxPayloadBytes: 10 }, '"maxPayloadBytes"'],
    [{ heartbeatIntervalMs: Number.NaN }, '"heartbeatIntervalMs"'],
    [{ maxPresenceInfoBytes: 1 }, '"maxPresenceInfoBytes": expected an integer number of bytes from 2 to 65536, got 1'],
    [{ maxMetadataEntries: 0 }, '"maxMetadataEntries": expected an integer from 1 to 1024, got 0'],
    [{ maxMetadataBytes: '4k' }, '"maxMetadataBytes": expected an integer number of bytes from 2 to 1048576'],
    [{ presenceStore: {} }, '"presenceStore": expected a PresenceStore instance, got an instance of Object'],
    [{ historyStore: new Map() }, '"historyStore": expected a HistoryStore instance, got an instance of Map'],
    [{ broker: { publish: () => undefined } }, '"broker": expected a Broker instance'],
    [{ maxConnections: -1 }, '"maxConnections": expected an integer from 0 (no cap), got -1'],
    [{ maxConnectionsPerIp: 1.5 }, '"maxConnectionsPerIp"'],
    [{ handshakeTimeoutMs: 0 }, '"handshakeTimeoutMs"'],
    [{ trustProxy: true }, '"trustProxy": expected a number of proxies from 0 to 16, got true'],
    [{ allowedOrigins: ['example.com'] }, '"allowedOrigins": expected a list of origins ("https://host[:port]")'],
    [{ allowedOrigins: 'https://example.com' }, '"allowedOrigins"'],
    [{ allowMissingOrigin: 'no' }, '"allowMissingOrigin": expected a boolean'],
    [{ rateLimit: { limit: 0, windowMs: 1000 } }, '"rateLimit.limit": expected an integer from 1, got 0'],
    [{ rateLimit: { limit: 5 } }, '"rateLimit.windowMs"'],
    [{ rateLimit: { limit: 5, windowMs: 10, burst: 2 } }, 'Unknown rateLimit option "burst"'],
    [{ rateLimit: true }, '"rateLimit": expected an object { limit, windowMs }, got true'],
    [{ rateLimitStore: {} }, '"rateLimitStore": expected a RateLimitStore instance'],
    [{ backpressure: { policy: 'pause' } }, '"backpressure.policy": expected "close" or "drop", got "pause"'],
    [{ backpressure: { maxBufferedBytes: 10 } }, '"backpressure.maxBufferedBytes"'],
    [{ backpressure: { maxBufferedMessages: -1 } }, '"backpressure.maxBufferedMessages": expected an integer from 0'],
    [
      { backpressure: { closeReason: 'é'.repeat(62) } },
      '"backpressure.closeReason": expected a string of at most 123 bytes',
    ],
    [{ backpressure: { closeGraceMs: 0 } }, '"backpressure.closeGraceMs"'],
    [{ backpressure: { grace: 1 } }, 'Unknown backpressure option "grace"'],
    [{ perMessageDeflate: 'yes' }, '"perMessageDeflate": expected a boolean or { threshold?'],
    [{ perMessageDeflate: { level: 0 } }, '"perMessageDeflate.level": expected an integer from 1 to 9, got 0'],
    [{ perMessageDeflate: { memLevel: 10 } }, '"perMessageDeflate.memLevel"'],
    [{ perMessageDeflate: { serverMaxWindowBits: 8 } }, '"perMessageDeflate.serverMaxWindowBits"'],
    [{ perMessageDeflate: { threshold: -1 } }, '"perMessageDeflate.threshold"'],
    [{ perMessageDeflate: { clientMaxWindowBits: 16 } }, '"perMessageDeflate.clientMaxWindowBits"'],
    [{ perMessageDeflate: { contextTakeover: 1 } }, '"perMessageDeflate.contextTakeover": expected a boolean'],
    [{ perMessageDeflate: { windowBits: 9 } }, 'Unknown perMessageDeflate option "windowBits"'],
    [
      { backpressure: { maxBufferedBytes: 2048, volatileBufferedBytes: 4096 } },
      '"backpressure.volatileBufferedBytes": must not exceed maxBufferedBytes (2048), got 4096',
    ],
  ])('rejects %j', (options, message) => {
    expect(() => resolveRealtimeOptions(options as never)).toThrow(message);
  });
});

describe('backend and auth option factories', () => {
  it.each([
    [() => redisRealtime({ url: 'redis://x', cluster: ['a:1'] }), '"url" and "cluster" exclude each other'],
    [() => redisRealtime({ cluster: ['nope'] }), 'Invalid redisRealtime option "cluster": expected a non-empty array'],
    [() => redisRealtime({ pool: 2 } as never), 'Unknown redisRealtime option "pool". Known options: url, cluster'],
    [() => natsRealtime({ prefix: 'a.b' }), 'Invalid natsRealtime option "prefix"'],
    [
      () => natsRealtime({ nodeTimeoutMs: 10 }),
      'Invalid natsRealtime option "nodeTimeoutMs": expected an integer from 300',
    ],
    [() => natsRealtime({ stream: 'x' } as never), 'Unknown natsRealtime option "stream". Known options: servers,'],
    [() => jwtAuth({ secret: 'x'.repeat(32), leeway: 5 } as never), 'Unknown jwtAuth option "leeway". Known options:'],
    [() => jwtAuth({ jwksUrl: 'ftp://keys' }), 'Invalid jwtAuth option "jwksUrl": expected an http(s) URL'],
  ])('%#: rejects a bad option naming it', (make, message) => {
    expect(make).toThrow(message);
  });
});
