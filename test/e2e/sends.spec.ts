import { beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  Channel,
  ErrorCode,
  MessageType,
  OnMessage,
  RealtimeModule,
  type RealtimeModuleOptions,
  RealtimeOptionsError,
  RealtimeService,
} from 'nestjs-realtime';
import { tokenIsUserId } from '../support/fixtures.js';
import { redisInstancesAroundSuite, serverAroundSuite } from '../support/suites.js';
import { type Frame, ofType } from '../support/test-client.js';
import { describeNeeding } from '../support/programs.js';

@Channel('room:{id}', { public: true, history: 10 })
class RoomChannel {}

const isPrivate = ofType(MessageType.CHAT_PRIVATE);

function moduleWith(options: RealtimeModuleOptions = {}, providers: Type[] = [RoomChannel]): Type {
  @Module({
    imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId, directMessages: true, ...options })],
    providers,
  })
  class SendsModule {}
  return SendsModule;
}

/** Anonymous visitors are let in (no token), to show direct messages need a sender. */
function usersOrVisitors(request: Parameters<typeof tokenIsUserId>[0]) {
  return new URL(request.url ?? '/', 'http://x').searchParams.has('token') ? tokenIsUserId(request) : { userId: null };
}

describe('sends that report', () => {
  const suite = serverAroundSuite(moduleWith({ authenticate: usersOrVisitors }));
  const connect = (user?: string) => suite.connect(user);
  let realtime: RealtimeService;

  beforeAll(() => {
    realtime = suite.realtime;
  });

  it('sendToUser says whether the user was online, and how many connections it reached', async () => {
    const [phone, laptop] = [await connect('alice'), await connect('alice')];
    const sent = await realtime.sendToUser('alice', { type: 'notification', payload: 'hi' });
    expect(sent).toEqual({ envelope: expect.objectContaining({ type: 'notification' }), delivered: 2, online: true });
    expect((await phone.nextOfType('notification')).id).toBe(sent.envelope.id);
    await laptop.nextOfType('notification');
    expect(await realtime.sendToUser('nobody', { type: 'notification' })).toMatchObject({
      delivered: 0,
      online: false,
    });
    // Online even when every connection of the user was excepted.
    const except = await realtime.sendToUser(
      'alice',
      { type: 'x' },
      { except: [phone.connectionId, laptop.connectionId] },
    );
    expect(except).toMatchObject({ delivered: 0, online: true });
  });

  it('channel, connection and all sends say how many connections they reached', async () => {
    const [a, b] = [await connect('a'), await connect('b')];
    await Promise.all([a.subscribe('room:1'), b.subscribe('room:1')]);
    const inRoom = await realtime.broadcastToChannel('room:1', { type: 'news' }, { except: a.connectionId });
    expect(inRoom).toMatchObject({ delivered: 1, envelope: { channel: 'room:1', offset: 1 } });
    expect(await realtime.broadcastToChannel('room:empty', { type: 'news' })).toMatchObject({ delivered: 0 });
    expect((await realtime.sendToConnection(a.connectionId, { type: 'poke' })).delivered).toBe(1);
    expect((await realtime.sendToConnection('gone.1', { type: 'poke' })).delivered).toBe(0);
    // Both clients of this test at least (those of earlier tests may still be closing).
    expect((await realtime.broadcastAll({ type: 'all' })).delivered).toBeGreaterThanOrEqual(2);
    await Promise.all([a.nextOfType('all'), b.nextOfType('all')]);
  });

  it('lets apps set id, recipient and replyTo on what they send, and validates them', async () => {
    const bob = await connect('bob');
    await realtime.sendToUser('bob', {
      type: MessageType.CHAT_PRIVATE,
      id: 'db-4711',
      sender: 'alice',
      recipient: 'bob',
      replyTo: 42,
      payload: { text: 'answer' },
    });
    expect(await bob.next(isPrivate)).toEqual({
      type: 'chat:private',
      id: 'db-4711',
      sender: 'alice',
      recipient: 'bob',
      replyTo: 42,
      timestamp: expect.any(Number),
      payload: { text: 'answer' },
    });
    await expect(realtime.sendToUser('bob', { type: 'x', id: '' })).rejects.toThrow(
      'Invalid realtime message id "": expected a string of 1 to 64 characters',
    );
    await expect(realtime.broadcastAll({ type: 'x', id: 7 as never })).rejects.toThrow(/message id 7/);
    await expect(realtime.sendToUser('bob', { type: 'x', recipient: 'r'.repeat(300) })).rejects.toThrow(
      /message recipient "r+".*1 to 256 characters/,
    );
    await expect(realtime.sendToUser('bob', { type: 'x', replyTo: 1.5 })).rejects.toThrow(/message replyTo 1.5/);
    await expect(realtime.sendToUser('bob', { type: 'x', replyTo: { id: 1 } as never })).rejects.toThrow(/replyTo/);
  });

  describe('directMessages: the built-in chat:private', () => {
    it("reaches every device of the recipient and the sender's other devices, and acks with the id", async () => {
      const [alicePhone, aliceLaptop] = [await connect('alice'), await connect('alice')];
      const [bobPhone, bobLaptop] = [await connect('bob'), await connect('bob')];
      const carol = await connect('carol');
      const ack = await alicePhone.request({ type: 'chat:private', recipient: 'bob', payload: { text: 'hi bob' } });
      expect(ack).toMatchObject({
        type: 'ack',
        payload: { id: expect.stringMatching(/^m_/), timestamp: expect.any(Number) },
      });
      const expected: Frame = {
        type: 'chat:private',
        id: (ack.payload as { id: string }).id,
        sender: 'alice',
        recipient: 'bob',
        timestamp: expect.any(Number) as unknown as number,
        payload: { text: 'hi bob' },
      };
      for (const device of [bobPhone, bobLaptop, aliceLaptop]) {
        expect(await device.next(isPrivate)).toEqual(expected);
      }
      for (const other of [alicePhone, carol]) {
        await other.sync();
        expect(other.pending(isPrivate)).toEqual([]);
      }
    });

    it('answers RECIPIENT_OFFLINE for a user with no connection, and refuses what is not a direct message', async () => {
      const alice = await connect('alice');
      const offline = await alice.request({ type: 'chat:private', recipient: 'nobody', payload: 'hello?' });
      expect(offline.error).toEqual({ code: ErrorCode.RECIPIENT_OFFLINE, message: 'User "nobody" is not connected' });
      expect((await alice.request({ type: 'chat:private', payload: 'to whom?' })).error?.code).toBe(
        ErrorCode.BAD_REQUEST,
      );
      const visitor = await connect();
      expect((await visitor.request({ type: 'chat:private', recipient: 'alice' })).error?.code).toBe(
        ErrorCode.UNAUTHORIZED,
      );
    });

    it("to oneself reaches only one's other devices", async () => {
      const [one, two] = [await connect('dana'), await connect('dana')];
      expect((await one.request({ type: 'chat:private', recipient: 'dana', payload: 'note to self' })).type).toBe(
        'ack',
      );
      expect((await two.next(isPrivate)).payload).toBe('note to self');
      await one.sync();
      expect(one.pending(isPrivate)).toEqual([]);
    });

    it('fails the boot beside an @OnMessage("chat:private") handler', async () => {
      @Channel()
      class PrivateHandler {
        @OnMessage('chat:private')
        handle(): void {}
      }
      const app = await NestFactory.create(moduleWith({}, [PrivateHandler]), { logger: false, abortOnError: false });
      try {
        const failure = await app.init().then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(failure).toBeInstanceOf(RealtimeOptionsError);
        expect((failure as Error).message).toMatch(/"directMessages".*PrivateHandler\.handle/);
      } finally {
        await app.close();
      }
    });
  });
});

describeNeeding('redis-server')('sends that report, across instances on Redis', () => {
  const suite = redisInstancesAroundSuite(2, { authenticate: tokenIsUserId, directMessages: true }, [RoomChannel]);
  const connect = (instance: number, user: string) => suite.connect(instance, user);

  it('sendToUser knows a user connected only to another instance is online', async () => {
    const bob = await connect(1, 'bob');
    const here = suite.realtime(0);
    expect(await here.sendToUser('bob', { type: 'notification', payload: 1 })).toMatchObject({
      delivered: 0,
      online: true,
    });
    expect((await bob.nextOfType('notification')).payload).toBe(1);
    expect(await here.sendToUser('nobody', { type: 'notification' })).toMatchObject({ online: false });
  });

  it('relays direct messages to devices on every instance', async () => {
    const alice = await connect(0, 'alice');
    const aliceElsewhere = await connect(1, 'alice');
    const bob = await connect(1, 'bob');
    const ack = await alice.request({ type: 'chat:private', recipient: 'bob', payload: 'across' });
    expect(ack.type).toBe('ack');
    expect(await bob.next(isPrivate)).toMatchObject({ sender: 'alice', recipient: 'bob', payload: 'across' });
    expect(await aliceElsewhere.next(isPrivate)).toMatchObject({ sender: 'alice', payload: 'across' });
    expect((await alice.request({ type: 'chat:private', recipient: 'zed' })).error?.code).toBe(
      ErrorCode.RECIPIENT_OFFLINE,
    );
  });
});
