import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type Type } from '@nestjs/common';
import { Redis } from 'ioredis';
import {
  Channel,
  type ChannelHistoryOptions,
  ChannelName,
  ConnectedClient,
  MemoryHistoryStore,
  MemoryPresenceStore,
  OnMessage,
  Payload,
  type RealtimeConnection,
  RealtimeModule,
  type RealtimeModuleOptions,
  RealtimeService,
} from 'nestjs-realtime';
import { redisRealtime } from 'nestjs-realtime/redis';
import { type TestApp, startApp } from '../support/create-app.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { type TestRedis, useTestRedis } from '../support/redis-server.js';
import { TestClient } from '../support/test-client.js';
import { describeNeeding } from '../support/programs.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The sample's kind of room: presence and history; `say` broadcasts the text to the room. */
function roomChannel(history: ChannelHistoryOptions): Type {
  @Channel('room:{id}', { public: true, presence: true, history })
  class RoomChannel {
    constructor(private readonly realtime: RealtimeService) {}

    @OnMessage('say')
    async say(
      @Payload() text: string,
      @ConnectedClient() client: RealtimeConnection,
      @ChannelName() channel: string,
    ): Promise<number | undefined> {
      const { envelope } = await this.realtime.broadcastToChannel(channel, {
        type: 'said',
        payload: text,
        sender: client.userId,
      });
      return envelope.offset;
    }
  }
  return RoomChannel;
}

function appWith(options: RealtimeModuleOptions, history: ChannelHistoryOptions): Type {
  @Module({
    imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId, rateLimit: false, ...options })],
    providers: [roomChannel(history)],
  })
  class BoundedModule {}
  return BoundedModule;
}

const MESSAGE = 'm'.repeat(1536);
const TTL_MS = 60_000;

/**
 * What an attacker does: join a new room, post one 1.5 KB message, leave; `rooms` times. Frames are pipelined a
 * hundred rooms at a time (the server handles a connection's frames in order): each batch ends with an acknowledged
 * leave, so the client reads what it is sent as a real one would.
 */
async function churnRooms(client: TestClient, rooms: number, from = 0): Promise<void> {
  for (let batch = from; batch < from + rooms; batch += 100) {
    const end = Math.min(batch + 100, from + rooms);
    for (let room = batch; room < end; room++) {
      const channel = `room:${room}`;
      client.send({ type: 'subscribe', channel });
      client.send({ type: 'say', channel, payload: MESSAGE });
      client.send({ type: 'unsubscribe', channel, id: room === end - 1 ? `left-${room}` : undefined });
    }
    await client.next((frame) => frame.replyTo === `left-${end - 1}`);
    client.clear();
  }
}

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('channel state an attacker creates is bounded and released', () => {
  describe('by the history TTL: memory returns to its level', () => {
    // The store's clock is the test's: the TTL passes when the test says so, not after a wait.
    let now = Date.now();
    const history = new MemoryHistoryStore({ now: () => now });
    const presence = new MemoryPresenceStore();
    const passTtl = () => {
      now += TTL_MS;
      history.sweep();
    };
    let server: TestApp;

    beforeAll(async () => {
      server = await startApp(
        appWith({ historyStore: history, presenceStore: presence }, { size: 100, ttlMs: TTL_MS }),
      );
    });

    afterAll(async () => {
      await server.app.close();
    });

    it('after 5,000 rooms joined, posted to and left, everything per channel is forgotten', async () => {
      const realtime = server.app.get(RealtimeService);
      const attacker = await TestClient.connect(server.url, { token: 'mallory' });
      await churnRooms(attacker, 50); // warm up: code paths compiled, pools allocated
      passTtl();
      expect(history.channelCount).toBe(0);
      const baseline = heapAfterGc();

      await churnRooms(attacker, 5000, 50);
      // Kept while the TTL runs: the messages of every room, 5,000 x 1.5 KB.
      expect(history.channelCount).toBe(5000);
      const grown = heapAfterGc() - baseline;
      expect(grown).toBeGreaterThan(5000 * 1536);
      // Presence, the connection's channels and this node's channel index let go as soon as each room emptied.
      expect(presence.channelCount).toBe(0);
      expect(realtime.stats().channels).toBe(0);
      expect(realtime.getConnection(attacker.connectionId)?.channels).toEqual([]);

      passTtl();
      expect(history.channelCount).toBe(0);
      expect(history.bytes).toBe(0);
      // Back to its level: what is left is a small fraction of what the run held.
      expect(heapAfterGc() - baseline).toBeLessThan(grown / 10);
      await attacker.close();
    }, 120_000);
  });

  describe("by the in-memory store's channel cap while the TTL runs", () => {
    const history = new MemoryHistoryStore({ maxChannels: 1000 });
    let server: TestApp;

    beforeAll(async () => {
      server = await startApp(appWith({ historyStore: history }, { size: 100 }));
    });

    afterAll(async () => {
      await server.app.close();
    });

    it('keeps at most maxChannels; a forgotten room starts a new epoch and recovery says so', async () => {
      const alice = await TestClient.connect(server.url, { token: 'alice' });
      const joined = await alice.subscribe('room:first');
      const { epoch } = joined.payload as { epoch: string };
      await alice.request({ type: 'say', channel: 'room:first', payload: 'hello' });
      await alice.request({ type: 'unsubscribe', channel: 'room:first' });

      const attacker = await TestClient.connect(server.url, { token: 'mallory' });
      await churnRooms(attacker, 1500);
      expect(history.channelCount).toBe(1000);

      const back = await alice.request({ type: 'subscribe', channel: 'room:first', since: 1, epoch });
      expect(back.payload).toMatchObject({ recovered: false, offset: 0 });
      expect((back.payload as { epoch: string }).epoch).not.toBe(epoch);
      await Promise.all([alice.close(), attacker.close()]);
    }, 120_000);
  });
});

describeNeeding('redis-server')('every Redis key the library writes expires', () => {
  let redis: TestRedis;
  let server: TestApp;
  let inspector: Redis;
  let prefix: string;

  beforeAll(async () => {
    redis = await useTestRedis();
    prefix = redis.prefix();
    inspector = new Redis(redis.url);
    server = await startApp(appWith(redisRealtime({ url: redis.url, keyPrefix: prefix }), { size: 10 }));
  });

  afterAll(async () => {
    await server.app.close();
    inspector.disconnect();
    await redis.stop();
  });

  it('presence, connection counts, node heartbeats and history all carry a time to live', async () => {
    const realtime = server.app.get(RealtimeService);
    const alice = await TestClient.connect(server.url, { token: 'alice' });
    const bob = await TestClient.connect(server.url, { token: 'bob' });
    await Promise.all([alice.subscribe('room:ttl'), bob.subscribe('room:ttl')]);
    await alice.request({ type: 'say', channel: 'room:ttl', payload: 'kept' });
    await realtime.setPresenceInfo('room:ttl', 'alice', { status: 'away' });

    const keys = await inspector.keys(`${prefix}*`);
    expect(keys.map((key) => key.slice(prefix.length)).sort()).toEqual(
      expect.arrayContaining([
        '{channel:room:ttl}:history:log',
        '{channel:room:ttl}:history:meta',
        '{channel:room:ttl}:presence:conns',
        '{channel:room:ttl}:presence:info',
        '{channel:room:ttl}:presence:users',
        `{channel:room:ttl}:presence:node:${alice.connectionId.split('.')[0]}`,
        '{connections}:presence:conns',
        '{connections}:presence:users',
        '{nodes}',
        `{nodes}:scopes:${alice.connectionId.split('.')[0]}`,
      ]),
    );
    for (const key of keys) {
      const ttl = await inspector.pttl(key);
      expect({ key, expires: ttl > 0 }).toEqual({ key, expires: true });
    }
    await Promise.all([alice.close(), bob.close()]);
  });
});
