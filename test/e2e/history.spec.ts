import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { Channel, ErrorCode, MemoryHistoryStore, RealtimeModule, RealtimeService } from 'nestjs-realtime';
import { type HistoryLimits, type HistoryPage, type HistoryQuery } from 'nestjs-realtime/backend';
import { type TestApp, startApp } from '../support/create-app.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { type Frame, TestClient, ofType } from '../support/test-client.js';

/** A real in-memory store whose reads can be held at a gate, to publish exactly inside the resubscribe window. */
class GatedHistoryStore extends MemoryHistoryStore {
  #gates: { before: Gate; after: Gate } | undefined;

  /** The next read waits at `before` (not read yet) and at `after` (read, not returned yet). */
  arm(): { before: Gate; after: Gate } {
    this.#gates = { before: new Gate(), after: new Gate() };
    return this.#gates;
  }

  override async read(channel: string, query: HistoryQuery, limits: HistoryLimits): Promise<HistoryPage> {
    const gates = this.#gates;
    this.#gates = undefined;
    await gates?.before.pass();
    const page = await super.read(channel, query, limits);
    await gates?.after.pass();
    return page;
  }
}

/** A point a read stops at: `reached` resolves when it gets there, `open()` lets it through. */
class Gate {
  #arrive!: () => void;
  #open!: () => void;
  readonly reached = new Promise<void>((resolve) => (this.#arrive = resolve));
  readonly #opened = new Promise<void>((resolve) => (this.#open = resolve));

  pass(): Promise<void> {
    this.#arrive();
    return this.#opened;
  }

  open(): void {
    this.#open();
  }
}

@Channel('chat:{id}', { public: true, history: 5 })
class ChatChannel {}

@Channel('lobby:{id}', { public: true, history: { size: 50, replayOnJoin: 3 } })
class LobbyChannel {}

@Channel('feed:{id}', { public: true, history: 1000 })
class FeedChannel {}

@Channel('plain:{id}', { public: true })
class PlainChannel {}

/** The original designs' default: `history: true` keeps 100 and replays the last 100 to a joiner. */
@Channel('log:{id}', { public: true, history: true })
class LogChannel {}

const store = new GatedHistoryStore();

@Module({
  imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId, historyStore: store })],
  providers: [ChatChannel, LobbyChannel, FeedChannel, PlainChannel, LogChannel],
})
class HistoryModule {}

@Module({
  imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId })],
  providers: [ChatChannel],
})
class RestartableModule {}

interface Position {
  epoch: string;
  offset: number;
}

const chat = (text: string) => ({ type: 'chat:group', payload: { text } });
const texts = (frames: Frame[]) => frames.map((frame) => (frame.payload as { text: string }).text);
const offsets = (frames: Frame[]) => frames.map((frame) => frame.offset);
const isChat = ofType('chat:group');

describe('history and recovery', () => {
  let server: TestApp;
  let realtime: RealtimeService;
  const open: TestClient[] = [];

  async function connect(user = 'alice'): Promise<TestClient> {
    const client = await TestClient.connect(server.url, { token: user });
    open.push(client);
    return client;
  }

  async function publish(channel: string, ...messages: string[]): Promise<void> {
    for (const text of messages) {
      await realtime.broadcastToChannel(channel, chat(text));
    }
  }

  /** Takes the next `count` chat messages. */
  async function take(client: TestClient, count: number): Promise<Frame[]> {
    const frames: Frame[] = [];
    for (let index = 0; index < count; index++) {
      frames.push(await client.next(isChat));
    }
    return frames;
  }

  beforeAll(async () => {
    server = await startApp(HistoryModule);
    realtime = server.app.get(RealtimeService);
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await server.app.close();
  });

  describe('history: true', () => {
    it('keeps the last 100 messages and replays all 100 to a joiner', async () => {
      await publish('log:1', ...Array.from({ length: 120 }, (_, index) => `m${index + 1}`));
      const joiner = await connect();
      expect((await joiner.subscribe('log:1')).payload).toEqual({ epoch: expect.any(String), offset: 120 });
      const replayed = await take(joiner, 100);
      expect(offsets(replayed)).toEqual(Array.from({ length: 100 }, (_, index) => index + 21));
      const page = await joiner.request({ type: 'history', channel: 'log:1' });
      expect((page.payload as { messages: unknown[] }).messages).toHaveLength(100);
    });
  });

  describe('offsets', () => {
    it('gives every message of a history channel the next offset, in the frame and the returned envelope', async () => {
      const alice = await connect();
      expect((await alice.subscribe('chat:offsets')).payload).toEqual({ epoch: expect.any(String), offset: 0 });
      const { envelope: sent } = await realtime.broadcastToChannel('chat:offsets', chat('one'));
      await publish('chat:offsets', 'two', 'three');
      const received = await take(alice, 3);
      expect(offsets(received)).toEqual([1, 2, 3]);
      expect(received[0]).toEqual({
        offset: 1,
        ...chat('one'),
        id: sent.id,
        channel: 'chat:offsets',
        sender: null,
        timestamp: sent.timestamp,
      });
      expect(sent.offset).toBe(1);
    });

    it('tells a later subscriber the epoch and the current offset', async () => {
      await publish('chat:position', 'a', 'b');
      const bob = await connect('bob');
      const reply = await bob.subscribe('chat:position');
      expect(reply.payload).toEqual({ epoch: expect.any(String), offset: 2 });
      await bob.sync();
      expect(bob.pending(isChat)).toEqual([]);
    });

    it('gives no offsets in a channel without history', async () => {
      const alice = await connect();
      expect((await alice.subscribe('plain:1')).payload).toBeUndefined();
      const { envelope: sent } = await realtime.broadcastToChannel('plain:1', chat('x'));
      expect(sent.offset).toBeUndefined();
      expect((await alice.next(isChat)).offset).toBeUndefined();
    });
  });

  describe('the history frame', () => {
    it('answers with the kept messages in order, exactly as they were delivered', async () => {
      const alice = await connect();
      await alice.subscribe('chat:read');
      await publish('chat:read', 'a', 'b', 'c');
      const live = await take(alice, 3);
      const answer = await alice.request({ type: 'history', channel: 'chat:read', id: 'h1' });
      expect(answer).toEqual({
        type: 'history',
        channel: 'chat:read',
        replyTo: 'h1',
        payload: { epoch: expect.any(String), offset: 3, messages: live },
      });
    });

    it('keeps at most the channel size, dropping the oldest', async () => {
      const alice = await connect();
      await alice.subscribe('chat:size');
      await publish('chat:size', '1', '2', '3', '4', '5', '6', '7', '8');
      const answer = await alice.request({ type: 'history', channel: 'chat:size' });
      expect(texts((answer.payload as { messages: Frame[] }).messages)).toEqual(['4', '5', '6', '7', '8']);
    });

    it('gives the newest `limit`, or what follows `since`', async () => {
      const alice = await connect();
      await alice.subscribe('chat:limits');
      await publish('chat:limits', 'a', 'b', 'c', 'd');
      const messages = async (query: object) =>
        texts(
          (
            (await alice.request({ type: 'history', channel: 'chat:limits', ...query })).payload as {
              messages: Frame[];
            }
          ).messages,
        );
      expect(await messages({ limit: 2 })).toEqual(['c', 'd']);
      expect(await messages({ since: 1 })).toEqual(['b', 'c', 'd']);
      expect(await messages({ since: 1, limit: 2 })).toEqual(['b', 'c']);
      expect(await messages({ since: 4 })).toEqual([]);
      expect(await messages({ limit: 10_000 })).toEqual(['a', 'b', 'c', 'd']);
    });

    it('refuses non-subscribers, channels without history and bad queries', async () => {
      const alice = await connect();
      const refused = async (frame: object) => (await alice.request({ type: 'history', ...frame })).error;
      expect((await refused({ channel: 'chat:refusals' }))?.code).toBe(ErrorCode.NOT_SUBSCRIBED);
      await alice.subscribe('plain:refusals');
      expect(await refused({ channel: 'plain:refusals' })).toEqual({
        code: ErrorCode.FORBIDDEN,
        message: 'Channel "plain:refusals" does not offer history',
      });
      await alice.subscribe('chat:refusals');
      expect(await refused({ channel: 'chat:refusals', limit: 0 })).toEqual({
        code: ErrorCode.BAD_REQUEST,
        message: '"limit" must be an integer from 1 to 10000',
      });
      expect((await refused({ channel: 'chat:refusals', limit: '5' }))?.code).toBe(ErrorCode.BAD_REQUEST);
      expect((await refused({ channel: 'chat:refusals', since: -1 }))?.code).toBe(ErrorCode.BAD_REQUEST);
      expect((await refused({ channel: 'chat:refusals', since: 1.5 }))?.code).toBe(ErrorCode.BAD_REQUEST);
    });
  });

  describe('replay on join', () => {
    it('follows a plain subscribe with the last messages, then live ones', async () => {
      await publish('lobby:replay', 'a', 'b', 'c', 'd', 'e');
      const alice = await connect();
      expect((await alice.subscribe('lobby:replay')).payload).toEqual({ epoch: expect.any(String), offset: 5 });
      await publish('lobby:replay', 'f');
      expect(texts(await take(alice, 4))).toEqual(['c', 'd', 'e', 'f']);
    });

    it('replays what there is when the channel has fewer messages', async () => {
      await publish('lobby:few', 'only');
      const alice = await connect();
      await alice.subscribe('lobby:few');
      expect(texts(await take(alice, 1))).toEqual(['only']);
      await alice.sync();
      expect(alice.pending(isChat)).toEqual([]);
    });

    it('replays when server code subscribes a connection', async () => {
      await publish('lobby:server', 'x', 'y');
      const alice = await connect();
      await realtime.subscribe(alice.connectionId, 'lobby:server');
      expect((await alice.nextOfType('subscribed')).payload).toEqual({ epoch: expect.any(String), offset: 2 });
      expect(texts(await take(alice, 2))).toEqual(['x', 'y']);
    });
  });

  describe('recovery', () => {
    /** A client subscribed to the channel, and the epoch it was told. */
    async function subscriber(channel: string): Promise<{ client: TestClient; epoch: string }> {
      const client = await connect();
      const { epoch } = (await client.subscribe(channel)).payload as Position;
      return { client, epoch };
    }

    /** Takes `count` live messages, then disconnects: resolves to where the client got to. */
    async function readThenLeave(reader: { client: TestClient; epoch: string }, count: number): Promise<Position> {
      const frames = await take(reader.client, count);
      await reader.client.close();
      return { epoch: reader.epoch, offset: frames.at(-1)!.offset as number };
    }

    it('replays exactly the messages missed while disconnected, then goes live', async () => {
      const channel = 'chat:missed';
      const reader = await subscriber(channel);
      await publish(channel, 'a', 'b');
      const position = await readThenLeave(reader, 2);
      await publish(channel, 'c', 'd', 'e');
      const back = await connect();
      const reply = await back.request({ type: 'subscribe', channel, since: position.offset, epoch: position.epoch });
      expect(reply.payload).toEqual({ epoch: position.epoch, offset: 5, recovered: true });
      await publish(channel, 'f');
      const frames = await take(back, 4);
      expect(texts(frames)).toEqual(['c', 'd', 'e', 'f']);
      expect(offsets(frames)).toEqual([3, 4, 5, 6]);
      await back.sync();
      expect(back.pending(isChat)).toEqual([]);
    });

    it('recovers with nothing to replay when nothing was missed', async () => {
      const channel = 'chat:nothing';
      const reader = await subscriber(channel);
      await publish(channel, 'a');
      const position = await readThenLeave(reader, 1);
      const back = await connect();
      const reply = await back.request({ type: 'subscribe', channel, ...position, since: position.offset });
      expect(reply.payload).toEqual({ epoch: position.epoch, offset: 1, recovered: true });
      await back.sync();
      expect(back.pending(isChat)).toEqual([]);
    });

    it('says recovered: false with the current offset when the missed messages are no longer kept', async () => {
      const channel = 'chat:toolate';
      await publish(channel, '1');
      const { epoch } = (await (await connect()).subscribe(channel)).payload as Position;
      await publish(channel, '2', '3', '4', '5', '6', '7', '8');
      const back = await connect();
      const reply = await back.request({ type: 'subscribe', channel, since: 1, epoch });
      expect(reply.payload).toEqual({ epoch, offset: 8, recovered: false });
      await publish(channel, '9');
      // Live messages go on from the current offset; nothing older is replayed (this channel replays none on join).
      expect(offsets(await take(back, 1))).toEqual([9]);
    });

    it('says recovered: false when the epoch is not the current one', async () => {
      const channel = 'chat:epoch';
      await publish(channel, 'a', 'b');
      const alice = await connect();
      const reply = await alice.request({ type: 'subscribe', channel, since: 1, epoch: 'from-another-life' });
      expect(reply.payload).toEqual({ epoch: expect.any(String), offset: 2, recovered: false });
      await alice.sync();
      expect(alice.pending(isChat)).toEqual([]);
    });

    it('says recovered: false when `since` is ahead of the channel, or given without an epoch', async () => {
      const channel = 'chat:ahead';
      await publish(channel, 'a');
      const alice = await connect();
      const { epoch } = (await alice.subscribe(channel)).payload as Position;
      const bob = await connect('bob');
      const ahead = await bob.request({ type: 'subscribe', channel, since: 7, epoch });
      expect(ahead.payload).toEqual({ epoch, offset: 1, recovered: false });
      const carol = await connect('carol');
      const noEpoch = await carol.request({ type: 'subscribe', channel, since: 0 });
      expect(noEpoch.payload).toEqual({ epoch, offset: 1, recovered: false });
    });

    it('replays the last messages on join when recovery fails in a channel that replays on join', async () => {
      const channel = 'lobby:fallback';
      await publish(channel, 'a', 'b', 'c', 'd');
      const alice = await connect();
      const reply = await alice.request({ type: 'subscribe', channel, since: 1, epoch: 'stale' });
      expect(reply.payload).toEqual({ epoch: expect.any(String), offset: 4, recovered: false });
      expect(texts(await take(alice, 3))).toEqual(['b', 'c', 'd']);
    });

    it('loses nothing and repeats nothing published inside the resubscribe window', async () => {
      const channel = 'chat:window';
      const reader = await subscriber(channel);
      await publish(channel, 'a');
      const position = await readThenLeave(reader, 1);
      await publish(channel, 'b');

      const gates = store.arm();
      const back = await connect();
      const replied = back.request({ type: 'subscribe', channel, since: position.offset, epoch: position.epoch });
      await gates.before.reached;
      // Joined, history not read yet: these are kept AND delivered to the held subscription.
      await publish(channel, 'c', 'd');
      gates.before.open();
      await gates.after.reached;
      // History read (up to `d`), replay not sent yet: these are only delivered to the held subscription.
      await publish(channel, 'e');
      gates.after.open();

      expect((await replied).payload).toEqual({ epoch: position.epoch, offset: 4, recovered: true });
      await publish(channel, 'f');
      const frames = await take(back, 5);
      expect(texts(frames)).toEqual(['b', 'c', 'd', 'e', 'f']);
      expect(offsets(frames)).toEqual([2, 3, 4, 5, 6]);
      await back.sync();
      expect(back.pending(isChat)).toEqual([]);
    });

    it('gives a client that reconnects again and again every message once, in order, while messages flow', async () => {
      const channel = 'feed:flow';
      const total = 400;
      const first = await connect();
      const start = (await first.subscribe(channel)).payload as Position;
      expect(start.offset).toBe(0);
      let published = 0;
      const publishing = (async () => {
        while (published < total) {
          await realtime.broadcastToChannel(channel, chat(String(++published)));
          if (published % 8 === 0) {
            // Let the subscriber's I/O in between bursts, as a busy server would.
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
        }
      })();

      const seen: number[] = [];
      let position: Position = start;
      let client = first;
      let reconnects = 0;
      for (;;) {
        // Take a few messages (or the rest), then drop the connection mid-stream and come back.
        for (const frame of await take(client, Math.min(25, total - position.offset))) {
          seen.push(frame.offset as number);
          position = { epoch: position.epoch, offset: frame.offset as number };
        }
        await client.close();
        if (position.offset === total) {
          break;
        }
        client = await connect();
        const reply = await client.request({
          type: 'subscribe',
          channel,
          since: position.offset,
          epoch: position.epoch,
        });
        expect((reply.payload as { recovered: boolean }).recovered).toBe(true);
        reconnects++;
      }
      await publishing;
      expect(seen).toEqual(Array.from({ length: total }, (_, index) => index + 1));
      expect(reconnects).toBeGreaterThan(5);
    });
  });

  describe('a new epoch', () => {
    it('is what a client finds after the in-memory history was lost to a restart', async () => {
      const first = await startApp(RestartableModule);
      const before = await TestClient.connect(first.url, { token: 'alice' });
      const { epoch } = (await before.subscribe('chat:restart')).payload as Position;
      await first.app.get(RealtimeService).broadcastToChannel('chat:restart', chat('a'));
      expect((await before.next(isChat)).offset).toBe(1);
      await first.app.close();
      await before.closed;

      const second = await startApp(RestartableModule);
      try {
        const after = await TestClient.connect(second.url, { token: 'alice' });
        const reply = await after.request({ type: 'subscribe', channel: 'chat:restart', since: 1, epoch });
        expect(reply.payload).toEqual({ epoch: expect.any(String), offset: 0, recovered: false });
        expect((reply.payload as Position).epoch).not.toBe(epoch);
        await after.close();
      } finally {
        await second.app.close();
      }
    });
  });
});
