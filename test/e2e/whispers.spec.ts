import { describe, expect, it } from '@jest/globals';
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
import type { RealtimeTestClient } from 'nestjs-realtime/testing';
import { EventLog } from '../support/event-log.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { TRANSPORTS, kitAroundSuite } from '../support/kit.js';

/**
 * Whispers with a filter: `secret` is blocked, `shout` is upper-cased, `rename` becomes `renamed`, `bad-rename`
 * returns an invalid event, `explode` throws. A handler for `typing` proves whispers never reach handlers.
 */
@Channel('room:{roomId}', { public: true, whispers: true })
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

@Channel('quiet:{id}', { public: true })
class QuietChannel {}

@Channel('open:{id}', { public: true, whispers: true })
class OpenChannel {}

@Module({
  imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId })],
  providers: [RoomChannel, QuietChannel, OpenChannel],
})
class WhisperModule {}

describe.each(TRANSPORTS)('whispers, %s', (transport) => {
  const kit = kitAroundSuite(WhisperModule, transport);

  async function member(user: string, channel: string): Promise<RealtimeTestClient> {
    const client = await kit.rt.connect({ userId: user });
    await client.subscribe(channel);
    return client;
  }

  it("reaches the channel's other connections, the sender's other devices included, never the sender's own", async () => {
    const phone = await member('alice', 'open:1');
    const laptop = await member('alice', 'open:1');
    const bob = await member('bob', 'open:1');
    const outsider = await kit.rt.connect({ userId: 'carol' });
    await phone.whisper('open:1', 'typing', { typing: true });
    const expected = {
      type: 'whisper',
      channel: 'open:1',
      event: 'typing',
      sender: 'alice',
      payload: { typing: true },
    };
    expect(await bob.expectWhisper('open:1', 'typing')).toEqual(expected);
    expect(await laptop.expectWhisper('open:1', 'typing')).toEqual(expected);
    await phone.expectNoMessage('whisper');
    await outsider.expectNoMessage('whisper');
  });

  it('acknowledges a whisper sent with an id', async () => {
    const alice = await member('alice', 'open:ack');
    await expect(alice.whisper('open:ack', 'read', { upTo: 'm_1' })).resolves.toBeUndefined();
  });

  it('never runs a handler, even one for the same name', async () => {
    const alice = await member('alice', 'room:handlers');
    const bob = await member('bob', 'room:handlers');
    await alice.whisper('room:handlers', 'typing');
    await bob.expectWhisper('room:handlers', 'typing');
    expect(RoomChannel.handled.events).toEqual([]);
    // The handler is real: a `typing` message (not a whisper) reaches it.
    await alice.request('typing', undefined, { channel: 'room:handlers' });
    expect(RoomChannel.handled.events).toEqual(['typing']);
    RoomChannel.handled.events.length = 0;
  });

  it('refuses whispers from a connection that is not subscribed with NOT_SUBSCRIBED', async () => {
    await member('bob', 'open:members');
    const outsider = await kit.rt.connect({ userId: 'carol' });
    await expect(outsider.whisper('open:members', 'typing')).rejects.toMatchObject({
      code: ErrorCode.NOT_SUBSCRIBED,
      message: 'Subscribe to "open:members" before sending "whisper" to it',
    });
  });

  it('refuses whispers in a channel without them with FORBIDDEN', async () => {
    const alice = await member('alice', 'quiet:1');
    const bob = await member('bob', 'quiet:1');
    await expect(alice.whisper('quiet:1', 'typing')).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
      message: 'Channel "quiet:1" does not offer whispers',
    });
    await bob.expectNoMessage('whisper');
  });

  it('refuses whispers in a channel the server joined without a declaration with FORBIDDEN', async () => {
    const alice = await kit.rt.connect({ userId: 'alice' });
    await kit.rt.app.get(RealtimeService).subscribe(alice.connectionId, 'undeclared:1');
    await alice.expectMessage('subscribed');
    await expect(alice.whisper('undeclared:1', 'typing')).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
  });

  it('refuses a whisper without an event or a channel with BAD_REQUEST', async () => {
    const alice = await member('alice', 'open:bad');
    alice.sendRaw({ type: 'whisper', id: 'no-event', channel: 'open:bad' });
    expect(await alice.expectMessage('error')).toMatchObject({
      replyTo: 'no-event',
      error: { code: ErrorCode.BAD_REQUEST, message: '"event" is required in a whisper' },
    });
    alice.sendRaw({ type: 'whisper', id: 'no-channel', event: 'typing' });
    expect(await alice.expectMessage('error')).toMatchObject({ error: { code: ErrorCode.BAD_REQUEST } });
    await expect(alice.whisper('open:bad', 'no spaces')).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST });
  });

  describe('the onWhisper filter', () => {
    it('sees the sender and the whisper', async () => {
      const alice = await member('alice', `room:seen-${transport}`);
      await member('bob', `room:seen-${transport}`);
      await alice.whisper(`room:seen-${transport}`, 'typing', 1);
      const seen = await RoomChannel.filtered.waitFor(
        ({ whisper: { channel } }) => channel === `room:seen-${transport}`,
      );
      expect(seen.client.userId).toBe('alice');
      expect(seen.whisper).toEqual({ channel: `room:seen-${transport}`, event: 'typing', payload: 1 });
    });

    it('blocks a whisper: the sender gets FORBIDDEN, nobody gets it', async () => {
      const alice = await member('alice', 'room:block');
      const bob = await member('bob', 'room:block');
      await expect(alice.whisper('room:block', 'secret', 'psst')).rejects.toMatchObject({
        code: ErrorCode.FORBIDDEN,
        message: 'The whisper "secret" was blocked in "room:block"',
      });
      await bob.expectNoMessage('whisper');
    });

    it('alters the payload or the event', async () => {
      const alice = await member('alice', 'room:alter');
      const bob = await member('bob', 'room:alter');
      await alice.whisper('room:alter', 'shout', 'hello');
      await bob.expectWhisper('room:alter', 'shout', 'HELLO');
      await alice.whisper('room:alter', 'rename', 7);
      await bob.expectWhisper('room:alter', 'renamed', 7);
    });

    it('answers an invalid alteration with INTERNAL and a log naming the filter', async () => {
      const alice = await member('alice', 'room:invalid');
      const bob = await member('bob', 'room:invalid');
      await expect(alice.whisper('room:invalid', 'bad-rename')).rejects.toMatchObject({ code: ErrorCode.INTERNAL });
      expect(kit.logger.find('error', 'RoomChannel.onWhisper returned an invalid event')).toBeDefined();
      await bob.expectNoMessage('whisper');
    });

    it('answers what the filter throws with its error code', async () => {
      const alice = await member('alice', 'room:throw');
      await expect(alice.whisper('room:throw', 'explode')).rejects.toMatchObject({
        code: ErrorCode.FORBIDDEN,
        message: 'No explosions here',
      });
    });
  });
});
