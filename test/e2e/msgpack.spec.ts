import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import fc from 'fast-check';
import { pack } from 'msgpackr';
import {
  Channel,
  ChannelName,
  ConnectedClient,
  ErrorCode,
  OnMessage,
  Payload,
  type RealtimeConnection,
  RealtimeModule,
  RealtimeService,
} from 'nestjs-realtime';
import { loadMsgpackFormat } from '../../lib/server/load-msgpack.js';
import { type TestApp, startApp } from '../support/create-app.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { TestClient } from '../support/test-client.js';

@Channel('room:{id}', { public: true, history: 10 })
class RoomChannel {
  constructor(private readonly realtime: RealtimeService) {}

  @OnMessage('chat:group')
  async send(
    @Payload() payload: { text: string },
    @ConnectedClient() client: RealtimeConnection,
    @ChannelName() channel: string,
  ): Promise<{ id: string | undefined; protocol: string }> {
    const { envelope: sent } = await this.realtime.broadcastToChannel(channel, {
      type: 'chat:group',
      payload: { text: payload.text },
      sender: client.userId,
    });
    return { id: sent.id, protocol: client.protocol };
  }
}

@Module({
  imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId, msgpack: true })],
  providers: [RoomChannel],
})
class MsgpackModule {}

@Module({ imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId })], providers: [RoomChannel] })
class JsonOnlyModule {}

describe('the realtime.v1.msgpack subprotocol', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp(MsgpackModule);
  });

  afterAll(async () => {
    await server.app.close();
  });

  it('is chosen when offered, and speaks the same envelopes in binary frames', async () => {
    const binary = await TestClient.connect(server.url, { token: 'alice', msgpack: true });
    expect(binary.socket.protocol).toBe('realtime.v1.msgpack');
    expect(binary.welcome).toMatchObject({ type: 'system:welcome', payload: { userId: 'alice' } });
    expect((await binary.subscribe('room:1')).payload).toEqual({ epoch: expect.any(String), offset: 0 });
    const ack = await binary.request({ type: 'chat:group', channel: 'room:1', payload: { text: 'hi' } });
    expect(ack.payload).toEqual({ id: expect.stringMatching(/^m_/), protocol: 'realtime.v1.msgpack' });
    await binary.close();
  });

  it('delivers one broadcast to JSON and MessagePack subscribers alike', async () => {
    const binary = await TestClient.connect(server.url, { token: 'alice', msgpack: true });
    const text = await TestClient.connect(server.url, { token: 'bob' });
    await Promise.all([binary.subscribe('room:2'), text.subscribe('room:2')]);
    await text.request({ type: 'chat:group', channel: 'room:2', payload: { text: 'é ✓ 👋' } });
    const [viaMsgpack, viaJson] = await Promise.all([binary.nextOfType('chat:group'), text.nextOfType('chat:group')]);
    expect(viaMsgpack).toEqual(viaJson);
    expect(viaMsgpack).toMatchObject({ offset: 1, channel: 'room:2', sender: 'bob', payload: { text: 'é ✓ 👋' } });
    await Promise.all([binary.close(), text.close()]);
  });

  it('replays history to a MessagePack client that recovers', async () => {
    const realtime = server.app.get(RealtimeService);
    const binary = await TestClient.connect(server.url, { token: 'carol', msgpack: true });
    const { epoch } = (await binary.subscribe('room:3')).payload as { epoch: string };
    await realtime.broadcastToChannel('room:3', { type: 'news', payload: 1 });
    await binary.nextOfType('news');
    await binary.close();
    await realtime.broadcastToChannel('room:3', { type: 'news', payload: 2 });
    const back = await TestClient.connect(server.url, { token: 'carol', msgpack: true });
    const reply = await back.request({ type: 'subscribe', channel: 'room:3', since: 1, epoch });
    expect(reply.payload).toMatchObject({ recovered: true, offset: 2 });
    expect(await back.nextOfType('news')).toMatchObject({ offset: 2, payload: 2 });
    const history = await back.request({ type: 'history', channel: 'room:3' });
    expect((history.payload as { messages: { payload: number }[] }).messages.map((m) => m.payload)).toEqual([1, 2]);
    await back.close();
  });

  it('answers text frames, malformed MessagePack and non-map values with BAD_REQUEST', async () => {
    const binary = await TestClient.connect(server.url, { token: 'dave', msgpack: true });
    binary.send('{"type":"ping"}');
    expect((await binary.nextOfType('error')).error).toEqual({
      code: ErrorCode.BAD_REQUEST,
      message: 'This connection speaks realtime.v1.msgpack: send MessagePack binary frames',
    });
    binary.send(Buffer.from([0x81])); // a map of one entry, cut short
    expect((await binary.nextOfType('error')).error?.message).toBe('Frame is not valid MessagePack');
    binary.send(pack([1, 2, 3]));
    expect((await binary.nextOfType('error')).error?.code).toBe(ErrorCode.BAD_REQUEST);
    expect((await binary.request({ type: 'ping' })).type).toBe('pong');
    await binary.close();
  });

  it('never lets a __proto__ key change a prototype', async () => {
    const binary = await TestClient.connect(server.url, { token: 'erin', msgpack: true });
    await binary.subscribe('room:4');
    binary.send(
      pack({ type: 'chat:group', channel: 'room:4', id: 'p', payload: { text: 'x', __proto__: { polluted: 1 } } }),
    );
    expect((await binary.next((frame) => frame.replyTo === 'p')).type).toBe('ack');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await binary.close();
  });

  it("follows the client's order of preference", async () => {
    const jsonFirst = await TestClient.connect(server.url, {
      token: 'frank',
      protocols: ['realtime.v1', 'realtime.v1.msgpack'],
    });
    expect(jsonFirst.socket.protocol).toBe('realtime.v1');
    expect((await jsonFirst.request({ type: 'ping' })).type).toBe('pong');
    await jsonFirst.close();
  });
});

describe('without the msgpack option', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp(JsonOnlyModule);
  });

  afterAll(async () => {
    await server.app.close();
  });

  it('chooses realtime.v1 for a client that offers both', async () => {
    const client = await TestClient.connect(server.url, {
      token: 'alice',
      protocols: ['realtime.v1.msgpack', 'realtime.v1'],
    });
    expect(client.socket.protocol).toBe('realtime.v1');
    expect((await client.request({ type: 'ping' })).type).toBe('pong');
    await client.close();
  });
});

describe('the MessagePack decoder, property-based', () => {
  it('never throws on any bytes: a well-typed frame or a clean BAD_REQUEST', async () => {
    const format = await loadMsgpackFormat();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 256 }),
          fc.anything().map((value) => pack(value)),
        ),
        (bytes) => {
          const result = format.decode(Buffer.from(bytes), true, { maxChannelNameLength: 128 });
          expect(result.ok || result.error.code === ErrorCode.BAD_REQUEST).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
