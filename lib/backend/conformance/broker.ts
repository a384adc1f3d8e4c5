import type { ConformanceRunner } from './runner.js';
import type { Broker, BrokerMessage } from '../index.js';
import { EventLog } from './event-log.js';

/** Unstarted brokers of one backend (one for an in-process broker: it serves one node) and how to end them. */
export interface BrokerBackend {
  readonly brokers: readonly Broker[];
  /** Ends what `open` started (called after each test). */
  close(): Promise<void>;
}

interface Node {
  readonly id: string;
  readonly broker: Broker;
  readonly received: EventLog<BrokerMessage>;
}

const frameOf = (text: string) => JSON.stringify({ type: 'chat:group', payload: text });

/**
 * What every Broker must do, written once and run against each implementation. With two or more brokers, the
 * cross-node rules are checked too: delivery follows interest, and each node gets a message once.
 */
/** What each node's delivery says it wrote: the broker must pass it on as `delivered`. */
const WRITTEN_PER_NODE = 3;

/**
 * `nodeCount`: how many brokers `open` gives (1 for the in-process broker). The cross-node cases are defined only for
 * two or more: with one node they would have nothing to check.
 */
export function describeBrokerConformance(
  runner: ConformanceRunner,
  name: string,
  open: () => Promise<BrokerBackend>,
  nodeCount = 2,
): void {
  const { describe, it, expect, beforeEach, afterEach } = runner;
  describe(`${name} (Broker conformance)`, () => {
    let backend: BrokerBackend;
    let nodes: Node[];

    beforeEach(async () => {
      backend = await open();
      nodes = [];
      for (const [index, broker] of backend.brokers.entries()) {
        const node: Node = { id: `node${index}`, broker, received: new EventLog() };
        await broker.start({
          nodeId: node.id,
          deliver: (message) => {
            node.received.push(message);
            return WRITTEN_PER_NODE;
          },
          presenceExpired: () => undefined,
        });
        await broker.subscribe('all');
        await broker.subscribe(`node:${node.id}`);
        nodes.push(node);
      }
    });

    afterEach(async () => {
      await Promise.all(nodes.map((node) => node.broker.close()));
      await backend.close();
    });

    const messages: BrokerMessage[] = [
      { kind: 'channel', channel: 'room:1', type: 'chat:group', frame: frameOf('c'), except: ['x.1'] },
      { kind: 'channel', channel: 'room:1', type: 'chat:group', frame: frameOf('kept'), offset: 7 },
      { kind: 'user', userId: 'alice', type: 'chat:private', frame: frameOf('u'), volatile: true },
      { kind: 'all', type: 'announce', frame: frameOf('a\nwith "newline"') },
      { kind: 'connection', connectionId: 'node0.5', type: 'note', frame: frameOf('n') },
      { kind: 'disconnect', target: { userId: 'alice' }, code: 4001, reason: 'bye' },
    ];

    for (const message of messages) {
      it(`hands a ${message.kind} message to every interested node, this one included, unchanged`, async () => {
        for (const node of nodes) {
          await node.broker.subscribe('channel:room:1');
          await node.broker.subscribe('user:alice');
        }
        await nodes[0].broker.publish(message);
        const reached = message.kind === 'connection' ? nodes.slice(0, 1) : nodes;
        for (const node of reached) {
          expect(await node.received.waitFor(() => true)).toEqual(message);
        }
      });
    }

    it('hands each node a message once', async () => {
      for (const node of nodes) {
        await node.broker.subscribe('channel:room:1');
      }
      const first = frameOf('once');
      const marker = frameOf('marker');
      await nodes[0].broker.publish({ kind: 'channel', channel: 'room:1', type: 't', frame: first });
      // On the same topic: a Redis Cluster orders a publisher's messages per channel (its shard), not across them.
      await nodes[0].broker.publish({ kind: 'channel', channel: 'room:1', type: 't', frame: marker });
      for (const node of nodes) {
        await node.received.waitFor((message) => 'frame' in message && message.frame === marker);
        expect(node.received.events.filter((message) => 'frame' in message && message.frame === first)).toHaveLength(1);
      }
    });

    it("reports the connections this node's delivery wrote, and none forwarded when no other node is interested", async () => {
      // A transport that cannot tell how many got it (core NATS) answers -1, always.
      const report = await nodes[0].broker.publish({ kind: 'user', userId: 'nobody', type: 't', frame: frameOf('r') });
      expect(report).toEqual({ delivered: WRITTEN_PER_NODE, forwarded: report.forwarded === -1 ? -1 : 0 });
    });

    if (nodeCount > 1) {
      it('reports that another node took a message it is interested in', async () => {
        await nodes[1].broker.subscribe('user:bob');
        const elsewhere = await nodes[0].broker.publish({
          kind: 'user',
          userId: 'bob',
          type: 't',
          frame: frameOf('b'),
        });
        if (elsewhere.forwarded !== -1) {
          expect(elsewhere.forwarded).toBeGreaterThan(0);
        }
        await nodes[1].received.waitFor((message) => message.kind === 'user' && message.userId === 'bob');
      });
    }

    it('rejects a publish before start and after close', async () => {
      const [broker] = backend.brokers;
      await broker.close();
      await expect(broker.publish({ kind: 'all', type: 't', frame: frameOf('late') })).rejects.toThrow(/not started/);
    });

    if (nodeCount > 1) {
      it('delivers to other nodes only what they have local interest in', async () => {
        const [publisher, listener] = nodes;
        await listener.broker.subscribe('channel:wanted');
        await listener.broker.subscribe('channel:dropped');
        await listener.broker.unsubscribe('channel:dropped');
        for (const channel of ['unwanted', 'dropped', 'wanted']) {
          await publisher.broker.publish({ kind: 'channel', channel, type: 't', frame: frameOf(channel) });
        }
        await publisher.broker.publish({ kind: 'connection', connectionId: 'node0.1', type: 't', frame: frameOf('x') });
        // Redis keeps one publisher's order: once "wanted" is here, the others would have been too.
        await listener.received.waitFor((message) => message.kind === 'channel' && message.channel === 'wanted');
        expect(listener.received.events.map((message) => message.kind === 'channel' && message.channel)).toEqual([
          'wanted',
        ]);
      });
    }
  });
}
