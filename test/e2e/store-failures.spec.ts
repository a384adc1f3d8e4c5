import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import {
  Channel,
  ErrorCode,
  MemoryHistoryStore,
  MemoryPresenceStore,
  RealtimeModule,
  RealtimeService,
} from 'nestjs-realtime';
import { type HistoryEntry, type HistoryPage, type HistoryPosition } from 'nestjs-realtime/backend';
import { type TestApp, startApp } from '../support/create-app.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { TestClient } from '../support/test-client.js';

/** Stores that fail on demand, as a remote store does when its server is down. */
class FlakyPresenceStore extends MemoryPresenceStore {
  failing = false;
  override add(...args: Parameters<MemoryPresenceStore['add']>): Promise<boolean> {
    return this.failing ? Promise.reject(new Error('presence store is down')) : super.add(...args);
  }
}

class FlakyHistoryStore extends MemoryHistoryStore {
  failing = false;
  override append(...args: Parameters<MemoryHistoryStore['append']>): Promise<HistoryEntry & HistoryPosition> {
    return this.failing ? Promise.reject(new Error('history store is down')) : super.append(...args);
  }
  override read(...args: Parameters<MemoryHistoryStore['read']>): Promise<HistoryPage> {
    return this.failing ? Promise.reject(new Error('history store is down')) : super.read(...args);
  }
}

const presenceStore = new FlakyPresenceStore();
const historyStore = new FlakyHistoryStore();

@Channel('room:{id}', { public: true, presence: true })
class RoomChannel {}

@Channel('chat:{id}', { public: true, history: 10 })
class ChatChannel {}

@Module({
  imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId, presenceStore, historyStore })],
  providers: [RoomChannel, ChatChannel],
})
class FlakyModule {}

describe('when a store fails', () => {
  let server: TestApp;
  let realtime: RealtimeService;

  beforeAll(async () => {
    server = await startApp(FlakyModule);
    realtime = server.app.get(RealtimeService);
  });

  afterAll(async () => {
    await server.app.close();
  });

  it.each([
    ['presence', 'room:down', () => (presenceStore.failing = true), 'presence store is down'],
    ['history', 'chat:down', () => (historyStore.failing = true), 'history store is down'],
  ])(
    'a %s subscribe is answered INTERNAL and undone; the connection carries on',
    async (_store, channel, fail, message) => {
      const alice = await TestClient.connect(server.url, { token: 'alice' });
      fail();
      try {
        const reply = await alice.subscribe(channel);
        expect(reply.error?.code).toBe(ErrorCode.INTERNAL);
        expect(server.logger.find('error', `joining "${channel}" failed: ${message}`)).toBeDefined();
        expect(alice.socket.readyState).toBe(alice.socket.OPEN);
        expect(realtime.getChannelConnections(channel)).toEqual([]);
        expect((await alice.request({ type: 'unsubscribe', channel })).error?.code).toBe(ErrorCode.NOT_SUBSCRIBED);
      } finally {
        presenceStore.failing = false;
        historyStore.failing = false;
      }
      expect((await alice.subscribe(channel)).type).toBe('subscribed');
      await alice.close();
    },
  );

  it('broadcastToChannel rejects with the store error and delivers nothing', async () => {
    const alice = await TestClient.connect(server.url, { token: 'alice' });
    await alice.subscribe('chat:publish');
    historyStore.failing = true;
    try {
      await expect(realtime.broadcastToChannel('chat:publish', { type: 'chat:group' })).rejects.toThrow(
        'history store is down',
      );
    } finally {
      historyStore.failing = false;
    }
    await alice.sync();
    expect(alice.pending((frame) => frame.type === 'chat:group')).toEqual([]);
    await alice.close();
  });
});
