import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import {
  Channel,
  ErrorCode,
  ForbiddenRealtimeException,
  OnMessage,
  type OnWhisper,
  type RealtimeConnection,
  RealtimeModule,
  RealtimeService,
  type Whisper,
  type WhisperVerdict,
} from 'nestjs-realtime';
import { type TestApp, startApp } from '../support/create-app.js';
import { EventLog } from '../support/event-log.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { TestClient, ofType } from '../support/test-client.js';

/**
 * Whispers with a filter: `secret` is blocked, `shout` is upper-cased, `rename` becomes `renamed`, `bad-rename`
 * returns an invalid event, `explode` throws. A handler for `typing` proves whispers never reach handlers.
 */
@Channel('room:{roomId}', { whispers: true })
class RoomChannel implements OnWhisper {
  static readonly handled = new EventLog<string>();
  static readonly filtered = new EventLog<{ client: RealtimeConnection; whisper: Whisper }>();

  onWhisper(client: RealtimeConnection, whisper: Whisper): WhisperVerdict {
    RoomChannel.filtered.push({ client, whisper });
    switch (whisper.event) {
      case 'secret':
        return false;
      case 'shout':
        return { payload: String(whisper.payload).toUpperCase() };
      case 'rename':
        return { event: 'renamed' };
      case 'bad-rename':
        return { event: 'not a valid name!' };
      case 'explode':
        throw new ForbiddenRealtimeException('No explosions here');
      default:
        return true;
    }
  }

  @OnMessage('typing')
  typing(): void {
    RoomChannel.handled.push('typing');
  }
}

@Channel('quiet:{id}')
class QuietChannel {}

@Channel('open:{id}', { whispers: true })
class OpenChannel {}

@Module({
  imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId })],
  providers: [RoomChannel, QuietChannel, OpenChannel],
})
class WhisperModule {}

const whisper = ofType('whisper');

describe('whispers', () => {
  let server: TestApp;
  const open: TestClient[] = [];

  async function connect(user: string): Promise<TestClient> {
    const client = await TestClient.connect(server.url, { token: user });
    open.push(client);
    return client;
  }

  async function member(user: string, channel: string): Promise<TestClient> {
    const client = await connect(user);
    expect((await client.subscribe(channel)).type).toBe('subscribed');
    return client;
  }

  beforeAll(async () => {
    server = await startApp(WhisperModule);
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await server.app.close();
  });

  it("reaches the channel's other connections, the sender's other devices included, never the sender's own", async () => {
    const phone = await member('alice', 'open:1');
    const laptop = await member('alice', 'open:1');
    const bob = await member('bob', 'open:1');
    const outsider = await connect('carol');
    phone.send({ type: 'whisper', channel: 'open:1', event: 'typing', payload: { typing: true } });
    const expected = {
      type: 'whisper',
      channel: 'open:1',
      event: 'typing',
      sender: 'alice',
      payload: { typing: true },
    };
    expect(await bob.next(whisper)).toEqual(expected);
    expect(await laptop.next(whisper)).toEqual(expected);
    await Promise.all([phone.sync(), outsider.sync()]);
    expect(phone.pending(whisper)).toEqual([]);
    expect(outsider.pending(whisper)).toEqual([]);
  });

  it('acknowledges a whisper sent with an id', async () => {
    const alice = await member('alice', 'open:ack');
    expect(
      await alice.request({ type: 'whisper', channel: 'open:ack', event: 'read', payload: { upTo: 'm_1' } }),
    ).toEqual({ type: 'ack', replyTo: expect.anything() });
  });

  it('never runs a handler, even one for the same name', async () => {
    const alice = await member('alice', 'room:handlers');
    const bob = await member('bob', 'room:handlers');
    alice.send({ type: 'whisper', channel: 'room:handlers', event: 'typing' });
    expect((await bob.next(whisper)).event).toBe('typing');
    expect(RoomChannel.handled.events).toEqual([]);
    // The handler is real: a `typing` message (not a whisper) reaches it.
    expect((await alice.request({ type: 'typing', channel: 'room:handlers' })).type).toBe('ack');
    expect(RoomChannel.handled.events).toEqual(['typing']);
  });

  it('refuses whispers from a connection that is not subscribed with NOT_SUBSCRIBED', async () => {
    await member('bob', 'open:members');
    const outsider = await connect('carol');
    const refused = await outsider.request({ type: 'whisper', channel: 'open:members', event: 'typing' });
    expect(refused.error).toEqual({
      code: ErrorCode.NOT_SUBSCRIBED,
      message: 'Subscribe to "open:members" before sending "whisper" to it',
    });
  });

  it('refuses whispers in a channel without them with FORBIDDEN', async () => {
    const alice = await member('alice', 'quiet:1');
    const bob = await member('bob', 'quiet:1');
    const refused = await alice.request({ type: 'whisper', channel: 'quiet:1', event: 'typing' });
    expect(refused.error).toEqual({ code: ErrorCode.FORBIDDEN, message: 'Channel "quiet:1" does not offer whispers' });
    await bob.sync();
    expect(bob.pending(whisper)).toEqual([]);
  });

  it('refuses whispers in a channel the server joined without a declaration with FORBIDDEN', async () => {
    const alice = await connect('alice');
    const realtime = server.app.get(RealtimeService);
    await realtime.subscribe(alice.connectionId, 'undeclared:1');
    await alice.nextOfType('subscribed');
    const refused = await alice.request({ type: 'whisper', channel: 'undeclared:1', event: 'typing' });
    expect(refused.error?.code).toBe(ErrorCode.FORBIDDEN);
  });

  it('refuses a whisper without an event or a channel with BAD_REQUEST', async () => {
    const alice = await member('alice', 'open:bad');
    expect((await alice.request({ type: 'whisper', channel: 'open:bad' })).error).toEqual({
      code: ErrorCode.BAD_REQUEST,
      message: '"event" is required in a whisper',
    });
    expect((await alice.request({ type: 'whisper', event: 'typing' })).error?.code).toBe(ErrorCode.BAD_REQUEST);
    expect((await alice.request({ type: 'whisper', channel: 'open:bad', event: 'no spaces' })).error?.code).toBe(
      ErrorCode.BAD_REQUEST,
    );
  });

  describe('the onWhisper filter', () => {
    it('sees the sender and the whisper', async () => {
      const alice = await member('alice', 'room:seen');
      await member('bob', 'room:seen');
      await alice.request({ type: 'whisper', channel: 'room:seen', event: 'typing', payload: 1 });
      const seen = await RoomChannel.filtered.waitFor(({ whisper: { channel } }) => channel === 'room:seen');
      expect(seen.client.userId).toBe('alice');
      expect(seen.whisper).toEqual({ channel: 'room:seen', event: 'typing', payload: 1 });
    });

    it('blocks a whisper: the sender gets FORBIDDEN, nobody gets it', async () => {
      const alice = await member('alice', 'room:block');
      const bob = await member('bob', 'room:block');
      const refused = await alice.request({ type: 'whisper', channel: 'room:block', event: 'secret', payload: 'psst' });
      expect(refused.error).toEqual({
        code: ErrorCode.FORBIDDEN,
        message: 'The whisper "secret" was blocked in "room:block"',
      });
      await bob.sync();
      expect(bob.pending(whisper)).toEqual([]);
    });

    it('alters the payload or the event', async () => {
      const alice = await member('alice', 'room:alter');
      const bob = await member('bob', 'room:alter');
      alice.send({ type: 'whisper', channel: 'room:alter', event: 'shout', payload: 'hello' });
      expect(await bob.next(whisper)).toMatchObject({ event: 'shout', payload: 'HELLO' });
      alice.send({ type: 'whisper', channel: 'room:alter', event: 'rename', payload: 7 });
      expect(await bob.next(whisper)).toMatchObject({ event: 'renamed', payload: 7 });
    });

    it('answers an invalid alteration with INTERNAL and a log naming the filter', async () => {
      const alice = await member('alice', 'room:invalid');
      const bob = await member('bob', 'room:invalid');
      const refused = await alice.request({ type: 'whisper', channel: 'room:invalid', event: 'bad-rename' });
      expect(refused.error?.code).toBe(ErrorCode.INTERNAL);
      expect(server.logger.find('error', 'RoomChannel.onWhisper returned an invalid event')).toBeDefined();
      await bob.sync();
      expect(bob.pending(whisper)).toEqual([]);
    });

    it('answers what the filter throws with its error code', async () => {
      const alice = await member('alice', 'room:throw');
      const refused = await alice.request({ type: 'whisper', channel: 'room:throw', event: 'explode' });
      expect(refused.error).toEqual({ code: ErrorCode.FORBIDDEN, message: 'No explosions here' });
    });
  });
});
