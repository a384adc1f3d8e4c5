import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { Channel, RealtimeModule, RealtimeService } from 'nestjs-realtime';
import { RedisUnavailableError, redisRealtime } from 'nestjs-realtime/redis';
import { type TestApp, startApp } from '../support/create-app.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { OwnRedisCluster } from '../support/redis-cluster.js';
import { TestClient, ofType } from '../support/test-client.js';
import { waitUntil } from '../support/wait-until.js';
import { describeNeeding } from '../support/programs.js';

@Channel('news:{topic}', { public: true })
class NewsChannel {}

const isChat = ofType('chat:group');

describeNeeding('redis-server', 'redis-cli')(
  'a Redis Cluster primary killed mid-test (a cluster this test starts)',
  () => {
    let cluster: OwnRedisCluster;
    const apps: TestApp[] = [];
    const open: TestClient[] = [];

    beforeAll(async () => {
      cluster = await OwnRedisCluster.start();
      for (let i = 0; i < 2; i++) {
        @Module({
          imports: [
            RealtimeModule.forRoot({
              authenticate: tokenIsUserId,
              ...redisRealtime({ cluster: cluster.nodes, nodeTimeoutMs: 600, commandTimeoutMs: 1000 }),
            }),
          ],
          providers: [NewsChannel],
        })
        class InstanceModule {}
        apps.push(await startApp(InstanceModule));
      }
    });

    afterAll(async () => {
      await Promise.all(open.map((client) => client.close()));
      await Promise.all(apps.map((app) => app.app.close()));
      await cluster?.stop();
    });

    /** The port of the primary that serves a channel's slot. */
    async function primaryOf(channel: string): Promise<number> {
      const inspector = new Cluster(
        cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })),
      );
      try {
        const slot = await inspector.cluster('KEYSLOT', `realtime:{channel:${channel}}`);
        const ranges = await inspector.cluster('SLOTS');
        return ranges.find(([from, to]) => slot >= from && slot <= to)![2][1];
      } finally {
        inspector.disconnect();
      }
    }

    it("grows a node's pub/sub connections with the shards, not with channels", async () => {
      const reader = await TestClient.connect(apps[0].url, { token: 'carol' });
      open.push(reader);
      for (let i = 0; i < 40; i++) {
        await reader.subscribe(`news:many-${i}`);
      }
      for (const port of cluster.ports) {
        const list = spawnSync('redis-cli', ['-p', String(port), 'CLIENT', 'LIST', 'TYPE', 'pubsub'], {
          encoding: 'utf8',
        });
        const subscribers = list.stdout.split('\n').filter((line) => line.includes('ssub=') || line.includes('sub='));
        // One sharded subscriber per instance on each primary (two instances), however many channels.
        expect(subscribers.length).toBeLessThanOrEqual(2);
        expect(subscribers.some((line) => !/ssub=0\b/.test(line))).toBe(true);
      }
      await reader.close();
    });

    it('rejects sends on the dead shard with RedisUnavailableError after local delivery, then recovers when it is back', async () => {
      const a = apps[0].app.get(RealtimeService);
      const here = await TestClient.connect(apps[0].url, { token: 'alice' });
      const there = await TestClient.connect(apps[1].url, { token: 'bob' });
      open.push(here, there);
      await here.subscribe('news:1');
      await there.subscribe('news:1');
      await a.broadcastToChannel('news:1', { type: 'chat:group', payload: 'before' });
      expect((await there.next(isChat)).payload).toBe('before');
      expect((await here.next(isChat)).payload).toBe('before');

      const port = await primaryOf('news:1');
      await cluster.kill(port);
      // Sends settle (nothing hangs) and this instance's connections get them. The first one after the kill may be
      // pipelined (handed over before the failure is known, then logged); from the failure on, sends reject.
      const failure = await waitUntil(async () => {
        const attempt = a.broadcastToChannel('news:1', { type: 'chat:group', payload: 'during' });
        expect((await here.next(isChat)).payload).toBe('during');
        return attempt.then(
          () => false,
          (error: unknown) => error instanceof RedisUnavailableError,
        );
      }, 10_000);
      expect(failure).toBe(true);

      await cluster.startNode(port);
      await cluster.waitUntilOk();
      // Back: the sharded subscription of the other instance is renewed, and sends cross instances again.
      const delivered = await waitUntil(async () => {
        const marker = `after-${Math.random()}`;
        try {
          await a.broadcastToChannel('news:1', { type: 'chat:group', payload: marker });
        } catch {
          return false;
        }
        await here.next((frame) => frame.type === 'chat:group' && frame.payload === marker);
        await there.sync();
        return there.pending(isChat).some((frame) => String(frame.payload).startsWith('after-'));
      }, 20_000);
      expect(delivered).toBe(true);
    }, 60_000);
  },
);
