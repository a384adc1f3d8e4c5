import { beforeAll, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { WebSocket } from 'ws';
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
import { RealtimeClient as SdkClient } from 'nestjs-realtime/client';
import { tokenIsUserId } from '../support/fixtures.js';
import { redisInstancesAroundSuite, serverAroundSuite } from '../support/suites.js';
import { binaryFrame, ofType } from '../support/test-client.js';
import { describeNeeding } from '../support/programs.js';

const MAX_PAYLOAD = 4096;
const bytes = (...values: number[]): Buffer => Buffer.from(values);
/** Every byte value, a newline and a quote included: nothing may be escaped or cut on the way. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

@Channel('files:{id}', { public: true, history: { size: 10, replayOnJoin: 2 }, whispers: true })
class FilesChannel {
  constructor(private readonly realtime: RealtimeService) {}

  /** Stores a file: the payload is `{ name, data }` with `data` as bytes, or the bytes themselves. */
  @OnMessage('file:put')
  async put(
    @Payload() payload: Buffer | { name: string; data: Buffer },
    @ConnectedClient() client: RealtimeConnection,
    @ChannelName() channel: string,
  ): Promise<{ name: string; size: number; isBuffer: boolean }> {
    const { name, data } = Buffer.isBuffer(payload) ? { name: 'unnamed', data: payload } : payload;
    await this.realtime.broadcastToChannel(channel, { type: 'file', payload: data, sender: client.userId });
    return { name, size: data.length, isBuffer: Buffer.isBuffer(data) };
  }
}

@Channel()
class EchoHandlers {
  /** The ack is the bytes received, reversed: the handler's return value travels as bytes too. */
  @OnMessage('echo:reverse')
  reverse(@Payload() payload: Buffer): Buffer {
    return Buffer.from(payload).reverse();
  }
}

const realtimeOptions = { authenticate: tokenIsUserId, msgpack: true, maxPayloadBytes: MAX_PAYLOAD };

@Module({ imports: [RealtimeModule.forRoot(realtimeOptions)], providers: [FilesChannel, EchoHandlers] })
class BinaryModule {}

describe('binary payloads', () => {
  const suite = serverAroundSuite(BinaryModule);
  const connect = (user: string, msgpack = false) => suite.connect(user, { msgpack });
  let realtime: RealtimeService;

  beforeAll(() => {
    realtime = suite.realtime;
  });

  it('reach realtime.v1 clients as one binary frame: the JSON envelope, a newline, then the raw bytes', async () => {
    const alice = await connect('alice');
    await realtime.sendToConnection(alice.connectionId, { type: 'file', payload: ALL_BYTES });
    const frame = await alice.nextOfType('file');
    expect(frame.payload).toEqual(ALL_BYTES);
    const wire = alice.raw.at(-1)!;
    expect(wire.isBinary).toBe(true);
    const newline = wire.data.indexOf(0x0a);
    const envelope = JSON.parse(wire.data.subarray(0, newline).toString()) as Record<string, unknown>;
    expect(envelope).toMatchObject({ type: 'file', sender: null, payload: { $bin: [0, 256] } });
    expect(wire.data.subarray(newline + 1).equals(ALL_BYTES)).toBe(true);
    expect(wire.data.includes('"type":"Buffer"')).toBe(false);
  });

  it('reach realtime.v1.msgpack clients as MessagePack bin values, and Uint8Array and ArrayBuffer count as bytes', async () => {
    const bob = await connect('bob', true);
    const text = await connect('bob');
    await realtime.sendToUser('bob', {
      type: 'file',
      payload: { u8: new Uint8Array([1, 2]), ab: new Uint8Array([3]).buffer },
    });
    const [viaMsgpack, viaJson] = await Promise.all([bob.nextOfType('file'), text.nextOfType('file')]);
    expect(Buffer.isBuffer((viaMsgpack.payload as { u8: unknown }).u8)).toBe(true);
    expect(viaMsgpack.payload).toEqual({ u8: bytes(1, 2), ab: bytes(3) });
    expect(viaJson.payload).toEqual({ u8: bytes(1, 2), ab: bytes(3) });
  });

  it('are framed once per broadcast: every subscriber gets the same bytes, JSON and MessagePack alike', async () => {
    const members = await Promise.all([connect('a'), connect('b'), connect('c', true), connect('d', true)]);
    await Promise.all(members.map((member) => member.subscribe('files:once')));
    await realtime.broadcastToChannel('files:once', { type: 'file', payload: ALL_BYTES });
    const frames = await Promise.all(members.map((member) => member.nextOfType('file')));
    for (const frame of frames) {
      expect(frame).toMatchObject({ channel: 'files:once', offset: 1, payload: ALL_BYTES });
    }
    const [a, b, c, d] = members.map((member) => member.raw.at(-1)!.data);
    expect(a.equals(b)).toBe(true);
    expect(c.equals(d)).toBe(true);
  });

  it('from a client reach the handler as a Buffer, as the payload or nested in it, on both wire formats', async () => {
    const alice = await connect('alice');
    const packed = await connect('alice', true);
    await alice.subscribe('files:1');
    await packed.subscribe('files:1');

    alice.send(binaryFrame({ type: 'file:put', id: 'raw', channel: 'files:1' }, ALL_BYTES));
    expect((await alice.next((frame) => frame.replyTo === 'raw')).payload).toEqual({
      name: 'unnamed',
      size: 256,
      isBuffer: true,
    });
    const nested = Buffer.concat([
      Buffer.from(JSON.stringify({ type: 'file:put', id: 'nested', channel: 'files:1' }).slice(0, -1)),
      Buffer.from(',"payload":{"name":"a.png","data":{"$bin":[2,3]}}}\n'),
      bytes(9, 9, 7, 8, 9),
    ]);
    alice.send(nested);
    expect((await alice.next((frame) => frame.replyTo === 'nested')).payload).toEqual({
      name: 'a.png',
      size: 3,
      isBuffer: true,
    });
    const viaMsgpack = await packed.request({
      type: 'file:put',
      channel: 'files:1',
      payload: { name: 'b.bin', data: bytes(1, 2) },
    });
    expect(viaMsgpack.payload).toEqual({ name: 'b.bin', size: 2, isBuffer: true });
    const files = await Promise.all([1, 2, 3].map(() => alice.nextOfType('file')));
    expect(files.map((file) => file.payload)).toEqual([ALL_BYTES, bytes(7, 8, 9), bytes(1, 2)]);
  });

  it('returned by a handler make a binary ack', async () => {
    const alice = await connect('alice');
    const packed = await connect('alice', true);
    alice.send(binaryFrame({ type: 'echo:reverse', id: 'e1' }, bytes(1, 2, 3)));
    expect((await alice.next((frame) => frame.replyTo === 'e1')).payload).toEqual(bytes(3, 2, 1));
    expect(alice.raw.at(-1)!.isBinary).toBe(true);
    expect((await packed.request({ type: 'echo:reverse', payload: bytes(4, 5) })).payload).toEqual(bytes(5, 4));
  });

  it('relay in whispers', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob', true);
    await Promise.all([alice.subscribe('files:w'), bob.subscribe('files:w')]);
    alice.send(binaryFrame({ type: 'whisper', channel: 'files:w', event: 'cursor' }, bytes(42)));
    expect(await bob.nextOfType('whisper')).toMatchObject({ event: 'cursor', sender: 'alice', payload: bytes(42) });
  });

  it('are refused with BAD_REQUEST when malformed, and the connection stays', async () => {
    const alice = await connect('alice');
    alice.send(Buffer.from('{"type":"echo:reverse","id":"x"}'));
    const noNewline = await alice.nextOfType('error');
    expect(noNewline.error).toMatchObject({ code: ErrorCode.BAD_REQUEST, message: expect.stringContaining('newline') });
    alice.send(
      Buffer.concat([Buffer.from('{"type":"echo:reverse","id":"y","payload":{"$bin":[1,5]}}\n'), bytes(1, 2)]),
    );
    const outOfRange = await alice.nextOfType('error');
    expect(outOfRange.error).toMatchObject({ code: ErrorCode.BAD_REQUEST, message: expect.stringContaining('$bin') });
    alice.send(Buffer.from('{"type":\n'));
    expect((await alice.nextOfType('error')).error?.code).toBe(ErrorCode.BAD_REQUEST);
    await alice.sync();
  });

  it('count toward maxPayloadBytes as bytes: a binary frame past it closes the connection with 1009', async () => {
    const alice = await connect('alice');
    alice.send(binaryFrame({ type: 'echo:reverse', id: 'fits' }, Buffer.alloc(MAX_PAYLOAD - 100)));
    expect((await alice.next((frame) => frame.replyTo === 'fits')).payload).toHaveLength(MAX_PAYLOAD - 100);
    alice.send(binaryFrame({ type: 'echo:reverse', id: 'big' }, Buffer.alloc(MAX_PAYLOAD)));
    expect((await alice.closed).code).toBe(1009);
  });

  it('are kept in history: replayed on join, answered by `history`, recovered after a reconnect', async () => {
    const alice = await connect('alice');
    await alice.subscribe('files:h');
    await realtime.broadcastToChannel('files:h', { type: 'file', payload: bytes(1) });
    await realtime.broadcastToChannel('files:h', { type: 'note', payload: { text: 'between' } });
    await realtime.broadcastToChannel('files:h', { type: 'file', payload: { name: 'x', data: ALL_BYTES } });
    await alice.nextOfType('file');
    await alice.nextOfType('file');

    const page = await alice.request({ type: 'history', channel: 'files:h' });
    expect(page.payload).toMatchObject({
      offset: 3,
      messages: [
        { type: 'file', offset: 1, payload: bytes(1) },
        { type: 'note', offset: 2, payload: { text: 'between' } },
        { type: 'file', offset: 3, payload: { name: 'x', data: ALL_BYTES } },
      ],
    });
    const packed = await connect('carol', true);
    expect((await packed.subscribe('files:h')).payload).toMatchObject({ offset: 3 });
    expect(await packed.nextOfType('note')).toMatchObject({ offset: 2 });
    expect(await packed.nextOfType('file')).toMatchObject({ offset: 3, payload: { data: ALL_BYTES } });
    const packedPage = await packed.request({ type: 'history', channel: 'files:h', limit: 1 });
    expect(packedPage.payload).toMatchObject({ messages: [{ offset: 3, payload: { name: 'x', data: ALL_BYTES } }] });

    const { epoch } = (await alice.request({ type: 'history', channel: 'files:h', limit: 1 })).payload as {
      epoch: string;
    };
    await alice.close();
    await realtime.broadcastToChannel('files:h', { type: 'file', payload: bytes(4, 4) });
    const back = await connect('alice');
    const resumed = await back.request({ type: 'subscribe', channel: 'files:h', since: 1, epoch });
    expect(resumed.payload).toMatchObject({ recovered: true, offset: 4 });
    const replayed = [await back.nextOfType('note'), await back.nextOfType('file'), await back.nextOfType('file')];
    expect(replayed.map((frame) => [frame.offset, frame.payload])).toEqual([
      [2, { text: 'between' }],
      [3, { name: 'x', data: ALL_BYTES }],
      [4, bytes(4, 4)],
    ]);
  });

  it('round-trip through the client SDK as Uint8Array', async () => {
    const client = new SdkClient(`${suite.server.url.replace('http', 'ws')}/realtime`, {
      token: 'dana',
      WebSocket: WebSocket,
    });
    try {
      await client.connect();
      const files = client.subscribe('files:sdk');
      await files.ready;
      const received = new Promise<unknown>((resolve) => files.on('file', (payload) => resolve(payload)));
      const ack = await client.request(
        'file:put',
        { name: 'n', data: new Uint8Array([7, 7, 7]) },
        {
          channel: 'files:sdk',
        },
      );
      expect(ack).toEqual({ name: 'n', size: 3, isBuffer: true });
      const payload = await received;
      expect(payload).toBeInstanceOf(Uint8Array);
      expect([...(payload as Uint8Array)]).toEqual([7, 7, 7]);
      const reversed = await client.request('echo:reverse', new Uint8Array([1, 2, 3]));
      expect([...(reversed as Uint8Array)]).toEqual([3, 2, 1]);
      const page = await files.history();
      expect([...(page.messages[0].payload as Uint8Array)]).toEqual([7, 7, 7]);
    } finally {
      client.close();
    }
  });
});

describeNeeding('redis-server')('binary payloads across instances on Redis', () => {
  const suite = redisInstancesAroundSuite(2, realtimeOptions, [FilesChannel]);
  const connect = (instance: number, user: string, msgpack = false) => suite.connect(instance, user, { msgpack });

  it('reach the other instance intact, in history, and in recovery there', async () => {
    const sender = await connect(0, 'alice');
    const json = await connect(1, 'bob');
    const packed = await connect(1, 'carol', true);
    await Promise.all([sender.subscribe('files:r'), json.subscribe('files:r'), packed.subscribe('files:r')]);

    sender.send(binaryFrame({ type: 'file:put', id: 'p1', channel: 'files:r' }, ALL_BYTES));
    await sender.next((frame) => frame.replyTo === 'p1');
    const [viaJson, viaMsgpack] = await Promise.all([json.nextOfType('file'), packed.nextOfType('file')]);
    expect(viaJson).toMatchObject({ offset: 1, sender: 'alice', payload: ALL_BYTES });
    expect(viaMsgpack).toMatchObject({ offset: 1, sender: 'alice', payload: ALL_BYTES });

    const page = await json.request({ type: 'history', channel: 'files:r' });
    expect(page.payload).toMatchObject({ messages: [{ offset: 1, payload: ALL_BYTES }] });
    const epoch = (page.payload as { epoch: string }).epoch;

    await json.close();
    await sender.request({ type: 'file:put', channel: 'files:r', payload: { name: 'second', data: bytes(5) } });
    const back = await connect(0, 'bob');
    const resumed = await back.request({ type: 'subscribe', channel: 'files:r', since: 1, epoch });
    expect(resumed.payload).toMatchObject({ recovered: true, offset: 2 });
    expect(await back.next(ofType('file'))).toMatchObject({ offset: 2, payload: bytes(5) });
  });
});
