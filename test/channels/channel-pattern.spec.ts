import { describe, expect, it } from '@jest/globals';
import { ChannelCatalog } from '../../lib/channels/channel-catalog.js';
import type { ChannelDefinition } from '../../lib/channels/channel-definition.js';
import { NO_CHANNEL_OPTIONS } from '../../lib/channels/channel-options.js';
import { compileChannelPattern } from '../../lib/channels/channel-pattern.js';

describe('compileChannelPattern', () => {
  it('binds named segments', () => {
    expect(compileChannelPattern('room:{roomId}').match('room:42')).toEqual({ roomId: '42' });
    expect(compileChannelPattern('org:{org}:team:{team}').match('org:a:team:b')).toEqual({ org: 'a', team: 'b' });
  });

  it('matches one whole segment per param or wildcard, never across ":"', () => {
    const pattern = compileChannelPattern('news:*');
    expect(pattern.match('news:sports')).toEqual({});
    expect(pattern.match('news:sports:extra')).toBeNull();
    expect(pattern.match('news:')).toBeNull();
    expect(pattern.match('news')).toBeNull();
    expect(compileChannelPattern('room:{id}').match('room:a:b')).toBeNull();
  });

  it('matches literals exactly, with regex characters taken literally', () => {
    const pattern = compileChannelPattern('a.b+c:{x}');
    expect(pattern.match('a.b+c:1')).toEqual({ x: '1' });
    expect(pattern.match('aXbbc:1')).toBeNull();
    expect(compileChannelPattern('lobby').match('lobby')).toEqual({});
  });

  it('gives equivalent patterns the same key', () => {
    expect(compileChannelPattern('room:{id}').key).toBe(compileChannelPattern('room:*').key);
  });

  it.each([
    ['', 'non-empty'],
    ['room::x', 'segment ""'],
    ['room:{id', 'segment "{id"'],
    ['room:{1d}', 'segment "{1d}"'],
    ['room:{id}:{id}', 'appears twice'],
    ['room:{__proto__}', 'not allowed as a parameter name'],
    ['room:a b', 'segment "a b"'],
  ])('rejects %j naming the problem', (source, message) => {
    expect(() => compileChannelPattern(source)).toThrow(message);
  });
});

describe('ChannelCatalog', () => {
  const definition = (source: string): ChannelDefinition => ({
    pattern: compileChannelPattern(source),
    classRef: class {},
    options: NO_CHANNEL_OPTIONS,
    checkJoin: () => Promise.resolve(true),
    filterWhisper: undefined,
  });

  it('prefers the pattern with a literal at the first differing segment', () => {
    const catalog = new ChannelCatalog();
    const any = definition('room:{id}:{sub}');
    const lobby = definition('room:lobby:{sub}');
    const deepLiteral = definition('room:{id}:main');
    catalog.add(any);
    catalog.add(deepLiteral);
    catalog.add(lobby);
    expect(catalog.match('room:lobby:main')?.definition).toBe(lobby);
    expect(catalog.match('room:7:main')?.definition).toBe(deepLiteral);
    expect(catalog.match('room:7:side')).toEqual({ definition: any, params: { id: '7', sub: 'side' } });
    expect(catalog.match('room:7')).toBeUndefined();
  });

  it('matches the rest of a channel with a last {name...} param, after every pattern of its exact length', () => {
    const catalog = new ChannelCatalog();
    const events = definition('events:{name...}');
    const regional = definition('events:eu:{name...}');
    const single = definition('events:{name}');
    catalog.add(events);
    catalog.add(regional);
    catalog.add(single);
    expect(catalog.match('events:deploy')).toEqual({ definition: single, params: { name: 'deploy' } });
    expect(catalog.match('events:deploy:eu-1/v2.3')).toEqual({
      definition: events,
      params: { name: 'deploy:eu-1/v2.3' },
    });
    expect(catalog.match('events:eu:a:b')).toEqual({ definition: regional, params: { name: 'a:b' } });
    expect(catalog.match('events')).toBeUndefined();
    expect(catalog.match('events::x')).toBeUndefined();
    expect(catalog.match('other:a:b')).toBeUndefined();
    expect(() => catalog.add(definition('events:{other...}'))).toThrow(
      /matches the same channels as "events:\{name\.\.\.\}"/,
    );
  });

  it('refuses a rest param anywhere but last', () => {
    expect(() => compileChannelPattern('a:{rest...}:b')).toThrow(
      '"{rest...}" binds the rest, so it must be the last segment',
    );
  });

  it('binds undeclared channels to no definition', () => {
    expect(new ChannelCatalog().bind('x:1')).toEqual({ definition: undefined, params: {} });
  });
});
