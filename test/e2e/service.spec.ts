import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Socket } from 'node:net';
import { Injectable, Module } from '@nestjs/common';
import * as ws from 'ws';
import {
  Channel,
  type OnRealtimeDisconnect,
  type RealtimeConnection,
  RealtimeModule,
  RealtimeService,
} from 'nestjs-realtime';
import { PLATFORMS, type TestApp, startApp } from '../support/create-app.js';
import { EventLog } from '../support/event-log.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { TestClient, ofType } from '../support/test-client.js';

@Channel('room:{roomId}', { public: true })
class RoomChannel {}

/** Disconnect hooks run after the connection has left its channels and the registry. */
@Injectable()
class Departures implements OnRealtimeDisconnect {
  static log = new EventLog<RealtimeConnection>();
  onRealtimeDisconnect(client: RealtimeConnection): void {
    Departures.log.push(client);
  }
}

@Module({
  imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId })],
  providers: [RoomChannel, Departures],
})
class ServiceModule {}

describe.each(PLATFORMS)('RealtimeService (%s)', (platform) => {
  let server: TestApp;
  let realtime: RealtimeService;
  const open: TestClient[] = [];

  async function connect(user: string): Promise<TestClient> {
    const client = await TestClient.connect(server.url, { token: user });
    open.push(client);
    return client;
  }

  beforeAll(async () => {
    server = await startApp(ServiceModule, platform);
    realtime = server.app.get(RealtimeService);
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await server.app.close();
  });

  it('sendToConnection reaches that connection only, with a completed envelope', async () => {
    const first = await connect('alice');
    const second = await connect('alice');
    const { envelope: sent } = await realtime.sendToConnection(first.connectionId, {
      type: 'notification',
      payload: { n: 1 },
    });
    const received = await first.nextOfType('notification');
    expect(received).toEqual({
      type: 'notification',
      id: sent.id,
      sender: null,
      timestamp: sent.timestamp,
      payload: { n: 1 },
    });
    expect(sent.id).toMatch(/^m_/);
    await second.sync();
    expect(second.pending(ofType('notification'))).toEqual([]);
  });

  it('sendToUser reaches every device of the user, except the ones named', async () => {
    const phone = await connect('bob');
    const laptop = await connect('bob');
    const tablet = await connect('bob');
    const other = await connect('carol');
    await realtime.sendToUser(
      'bob',
      { type: 'chat:private', payload: 'hi', sender: 'carol' },
      { except: tablet.connectionId },
    );
    expect((await phone.nextOfType('chat:private')).sender).toBe('carol');
    expect((await laptop.nextOfType('chat:private')).payload).toBe('hi');
    await Promise.all([tablet.sync(), other.sync()]);
    expect(tablet.pending(ofType('chat:private'))).toEqual([]);
    expect(other.pending(ofType('chat:private'))).toEqual([]);
  });

  it('frames a broadcast once for all its subscribers, and each gets the same bytes', async () => {
    const members = await Promise.all(['a', 'b', 'c', 'd'].map((user) => connect(user)));
    await Promise.all(members.map((member) => member.subscribe('room:framed')));
    // Writes of whole buffers on the server's side of the sockets (those a net.Server accepted).
    const buffers: Buffer[] = [];
    type Write = (this: Socket, chunk: unknown, ...rest: unknown[]) => boolean;
    const prototype = Socket.prototype as unknown as { write: Write };
    const { write } = prototype;
    const writes = jest.spyOn(prototype, 'write').mockImplementation(function (this: Socket, chunk, ...rest) {
      if ((this as { server?: unknown }).server !== undefined && Buffer.isBuffer(chunk)) {
        buffers.push(chunk);
      }
      return write.call(this, chunk, ...rest);
    });
    const sends = jest.spyOn(ws.WebSocket.prototype, 'send');
    try {
      const { envelope: sent } = await realtime.broadcastToChannel('room:framed', {
        type: 'news',
        payload: { text: 'é✓' },
      });
      for (const member of members) {
        expect(await member.nextOfType('news')).toEqual({ ...sent, payload: { text: 'é✓' } });
      }
      // Four writes of one and the same buffer, and no per-socket framing through send().
      expect(buffers).toHaveLength(4);
      expect(buffers.every((buffer) => buffer === buffers[0])).toBe(true);
      expect(sends).not.toHaveBeenCalled();
    } finally {
      writes.mockRestore();
      sends.mockRestore();
    }
  });

  it('writes a burst published in one turn as two writes per subscriber, and each gets all of it in order', async () => {
    const members = await Promise.all(['a', 'b', 'c'].map((user) => connect(user)));
    await Promise.all(members.map((member) => member.subscribe('room:burst')));
    // Writes on the server's side of the sockets (those a net.Server accepted), per socket.
    const writes = new Map<Socket, number>();
    type Write = (this: Socket, ...args: unknown[]) => void;
    const counting = (write: Write): Write =>
      function (this: Socket, ...args) {
        if ((this as { server?: unknown }).server !== undefined) {
          writes.set(this, (writes.get(this) ?? 0) + 1);
        }
        write.apply(this, args);
      };
    const prototype = Socket.prototype as unknown as { _write: Write; _writev: Write };
    const { _write: write, _writev: writev } = prototype;
    const single = jest.spyOn(prototype, '_write').mockImplementation(counting(write));
    const batched = jest.spyOn(prototype, '_writev').mockImplementation(counting(writev));
    try {
      const sent = await Promise.all(
        Array.from({ length: 20 }, (_, n) => realtime.broadcastToChannel('room:burst', { type: 'tick', payload: n })),
      );
      for (const member of members) {
        for (let n = 0; n < 20; n++) {
          expect(await member.nextOfType('tick')).toMatchObject({ id: sent[n].envelope.id, payload: n });
        }
      }
      expect([...writes.values()]).toEqual([2, 2, 2]);
    } finally {
      single.mockRestore();
      batched.mockRestore();
    }
  });

  it('broadcastToChannel reaches the members, sets the channel, and honours except', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const carol = await connect('carol');
    await alice.subscribe('room:1');
    await bob.subscribe('room:1');
    await carol.subscribe('room:2');
    const { envelope: sent } = await realtime.broadcastToChannel(
      'room:1',
      { type: 'chat:group', payload: { text: 'x' }, channel: 'ignored' },
      { except: [bob.connectionId] },
    );
    expect(sent.channel).toBe('room:1');
    expect(await alice.nextOfType('chat:group')).toMatchObject({ channel: 'room:1', id: sent.id });
    await Promise.all([bob.sync(), carol.sync()]);
    expect(bob.pending(ofType('chat:group'))).toEqual([]);
    expect(carol.pending(ofType('chat:group'))).toEqual([]);
  });

  it('broadcastAll reaches every connection', async () => {
    const clients = await Promise.all(['a', 'b', 'c'].map((user) => connect(user)));
    const { envelope: sent } = await realtime.broadcastAll({ type: 'alert', payload: { title: 'maintenance' } });
    for (const client of clients) {
      expect((await client.nextOfType('alert')).id).toBe(sent.id);
    }
  });

  it('subscribes a connection to any channel on its behalf, and unsubscribes it', async () => {
    const dana = await connect('dana');
    expect(await realtime.subscribe(dana.connectionId, 'private:dana:feed')).toBe(true);
    expect(await dana.nextOfType('subscribed')).toEqual({ type: 'subscribed', channel: 'private:dana:feed' });
    expect(await realtime.subscribe(dana.connectionId, 'private:dana:feed')).toBe(false);
    expect(realtime.getChannelConnections('private:dana:feed').map((client) => client.id)).toEqual([dana.connectionId]);
    expect(realtime.getConnection(dana.connectionId)?.channels).toEqual(['private:dana:feed']);
    await realtime.broadcastToChannel('private:dana:feed', { type: 'notification', payload: 1 });
    expect((await dana.nextOfType('notification')).channel).toBe('private:dana:feed');
    expect(await realtime.unsubscribe(dana.connectionId, 'private:dana:feed')).toBe(true);
    expect(realtime.getChannelConnections('private:dana:feed')).toEqual([]);
    expect(await realtime.unsubscribe(dana.connectionId, 'private:dana:feed')).toBe(false);
    expect(await realtime.subscribe('no-such-connection', 'room:1')).toBe(false);
  });

  it('lets a server-side subscriber send channel messages only to declared handlers', async () => {
    const erin = await connect('erin');
    await realtime.subscribe(erin.connectionId, 'room:9');
    const reply = await erin.request({ type: 'chat:group', channel: 'room:9', payload: { text: 'x' } });
    expect(reply.error?.code).toBe('UNKNOWN_TYPE');
  });

  it('drops a connection from its channels when it closes', async () => {
    const frank = await connect('frank');
    await frank.subscribe('room:gone');
    expect(realtime.getChannelConnections('room:gone')).toHaveLength(1);
    await frank.close();
    await Departures.log.waitFor((client) => client.id === frank.connectionId);
    expect(realtime.getChannelConnections('room:gone')).toEqual([]);
    expect(realtime.getUserConnections('frank')).toEqual([]);
  });

  it('disconnects one connection, or every connection of a user', async () => {
    const one = await connect('gina');
    const two = await connect('gina');
    const keep = await connect('hank');
    await realtime.disconnect({ connectionId: one.connectionId }, { reason: 'kicked' });
    expect(await one.closed).toEqual({ code: 1008, reason: 'kicked' });
    await realtime.disconnect({ userId: 'gina' }, { code: 4100, reason: 'banned' });
    expect(await two.closed).toEqual({ code: 4100, reason: 'banned' });
    expect((await keep.request({ type: 'ping' })).type).toBe('pong');
  });

  it('lists the connections of this node', async () => {
    const a = await connect('ivy');
    const b = await connect('jack');
    const ids = realtime.getConnections().map((client) => client.id);
    expect(ids).toEqual(expect.arrayContaining([a.connectionId, b.connectionId]));
    expect(realtime.getAddress()?.port).toBe(Number(new URL(server.url).port));
  });

  describe('bad input', () => {
    it.each([
      ['a message without type', () => realtime.broadcastAll({} as never), 'Invalid realtime message type undefined'],
      [
        'a message type with spaces',
        () => realtime.broadcastAll({ type: 'a b' }),
        'Invalid realtime message type "a b"',
      ],
      ['a null message', () => realtime.broadcastAll(null as never), 'must be an object'],
      [
        'a bad channel',
        () => realtime.broadcastToChannel('bad channel', { type: 'x' }),
        'Invalid channel name "bad channel"',
      ],
      ['an empty user', () => realtime.sendToUser('', { type: 'x' }), 'Invalid userId ""'],
      [
        'an unencodable payload',
        () => realtime.broadcastAll({ type: 'x', payload: 1n }),
        'Cannot encode a "x" message',
      ],
      ['a reserved close code', () => realtime.disconnect({ userId: 'a' }, { code: 1006 }), 'Invalid close code 1006'],
      [
        'a long close reason',
        () => realtime.disconnect({ userId: 'a' }, { reason: 'x'.repeat(124) }),
        'at most 123 bytes',
      ],
    ])('rejects %s with an error naming the value', async (_case, call, message) => {
      await expect(call()).rejects.toThrow(message);
    });
  });
});
