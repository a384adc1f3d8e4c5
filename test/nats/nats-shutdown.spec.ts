import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { natsRealtime } from 'nestjs-realtime/nats';
import { OwnNats } from '../support/nats-server.js';
import { waitUntil } from '../support/wait-until.js';
import { describeNeeding } from '../support/programs.js';
import { conformanceContext } from 'nestjs-realtime/backend';

describeNeeding('nats-server')('with a NATS server', () => {
  describe('closing the NATS backend', () => {
    let nats: OwnNats;

    beforeAll(async () => {
      nats = await OwnNats.start();
    });

    afterAll(async () => {
      await nats.remove();
    });

    it('does not hang while NATS is away: the connection is closed instead of drained', async () => {
      const { broker, presenceStore } = natsRealtime({ servers: nats.url, prefix: nats.prefix() });
      await broker.start(conformanceContext('node-a'));
      await presenceStore.start(conformanceContext('node-a'));
      await nats.stop();
      expect(await waitUntil(() => !broker.health().up, 10_000)).toBe(true);
      await presenceStore.close();
      await broker.close();
      expect(broker.health().up).toBe(false);
      await nats.restart();
    });
  });
});
