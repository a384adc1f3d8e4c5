import { type BenchClient, connectClient, connectMany, tokenFor } from './clients.js';
import { pause, percentile } from './numbers.js';
import { type RunningServer, type Target, cpuMicros } from './targets.js';

export interface FanOutResult {
  readonly deliveredPerSecond: number;
  readonly serverMicrosPerDelivery: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  /** The load generator's own CPU use during the run, as a share of one core: near 1, it was the bottleneck. */
  readonly loadGeneratorCore: number;
}

export interface RequestResult {
  readonly acksPerSecond: number;
  readonly serverMicrosPerAck: number;
  readonly rttP50Ms: number;
  readonly rttP99Ms: number;
}

export interface MemoryResult {
  readonly kilobytesPerConnection: number;
}

export interface ConnectResult {
  readonly connectionsPerSecond: number;
  readonly serverMicrosPerConnection: number;
}

const TEXT = 'hello from the benchmark, a chat message of ordinary length';
/** The sample's kind of room on the library's app (presence, history, whispers); a plain channel on the others. */
const DEFAULT_CHANNEL = 'room:bench';

/**
 * Fan-out: `subscribers` clients in one channel, one publisher. Unpaced (`rate` undefined): the publisher keeps
 * `window` publishes in flight. Paced: `rate` deliveries per second are offered. Server CPU per delivered message.
 */
export async function fanOut(
  target: Target,
  server: RunningServer,
  options: { subscribers: number; durationMs: number; rate?: number; window?: number; channel?: string },
): Promise<FanOutResult> {
  const CHANNEL = options.channel ?? DEFAULT_CHANNEL;
  const subscribers = await connectMany(target, server.ports, options.subscribers, 100);
  await Promise.all(subscribers.map((client) => client.subscribe(CHANNEL)));
  // The library takes channel messages from subscribers only: the publisher subscribes, on every target alike.
  const publisher = await connectClient(target, server.port, 'publisher');
  await publisher.subscribe(CHANNEL);
  let delivered = 0;
  const latencies: number[] = [];
  subscribers.forEach((client, index) => {
    const sampled = index % 50 === 0;
    client.onDelivery((sentAt) => {
      delivered++;
      if (sampled) {
        latencies.push((nowMicros() - sentAt()) / 1000);
      }
    });
  });
  const publish = () => publisher.publish(CHANNEL, { text: TEXT, t: nowMicros() });

  // Warm up (JIT, buffers), then measure.
  await Promise.all(Array.from({ length: 20 }, publish));
  await waitFor(() => delivered >= 20 * options.subscribers, 10_000);
  delivered = 0;
  latencies.length = 0;

  const before = await server.usage();
  const selfBefore = process.cpuUsage();
  const started = performance.now();
  let published = 0;
  if (options.rate === undefined) {
    const window = options.window ?? 16;
    const loop = async () => {
      while (performance.now() - started < options.durationMs) {
        published++;
        await publish();
      }
    };
    await Promise.all(Array.from({ length: window }, loop));
  } else {
    const perSecond = options.rate / options.subscribers;
    const sends: Promise<void>[] = [];
    while (performance.now() - started < options.durationMs) {
      const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
      while (published < due) {
        published++;
        sends.push(publish());
      }
      await pause(5);
    }
    await Promise.all(sends);
  }
  await waitFor(() => delivered >= published * options.subscribers, 30_000);
  const elapsedMs = performance.now() - started;
  const after = await server.usage();
  const self = process.cpuUsage(selfBefore);
  close([...subscribers, publisher]);
  return {
    deliveredPerSecond: (delivered / elapsedMs) * 1000,
    serverMicrosPerDelivery: cpuMicros(before, after) / delivered,
    latencyP50Ms: percentile(latencies, 0.5),
    latencyP99Ms: percentile(latencies, 0.99),
    loadGeneratorCore: (self.user + self.system) / 1000 / elapsedMs,
  };
}

/** Request/ack: `clients` clients, each with one request in flight (a closed loop). Server CPU per ack. */
export async function requestAck(
  target: Target,
  server: RunningServer,
  options: { clients: number; durationMs: number },
): Promise<RequestResult> {
  const clients = await connectMany(target, server.port, options.clients, 50);
  const rtts: number[] = [];
  let acks = 0;
  let measuring = false;
  let stopAt = performance.now() + 500;
  const loop = async (client: BenchClient) => {
    while (performance.now() < stopAt) {
      const sent = performance.now();
      await client.echo(acks);
      if (measuring) {
        acks++;
        rtts.push(performance.now() - sent);
      }
    }
  };
  await Promise.all(clients.map(loop)); // warm-up
  measuring = true;
  const before = await server.usage();
  const started = performance.now();
  stopAt = started + options.durationMs;
  await Promise.all(clients.map(loop));
  const elapsedMs = performance.now() - started;
  const after = await server.usage();
  close(clients);
  return {
    acksPerSecond: (acks / elapsedMs) * 1000,
    serverMicrosPerAck: cpuMicros(before, after) / acks,
    rttP50Ms: percentile(rtts, 0.5),
    rttP99Ms: percentile(rtts, 0.99),
  };
}

/** Idle memory: `connections` clients across `channels` channels; the server's RSS growth per connection. */
export async function idleMemory(
  target: Target,
  server: RunningServer,
  options: { connections: number; channels: number },
): Promise<MemoryResult> {
  const before = await server.usage(true);
  const clients = await connectMany(target, server.port, options.connections, 200);
  await Promise.all(clients.map((client, index) => client.subscribe(`room:${index % options.channels}`)));
  await pause(500);
  const after = await server.usage(true);
  close(clients);
  return { kilobytesPerConnection: (after.memory.rss - before.memory.rss) / 1024 / options.connections };
}

/**
 * Memory of busy connections: `connections` clients in `channels` channels each publish one compressible message of
 * `textLength` characters, so that every connection has sent and received messages (with permessage-deflate, its
 * zlib streams exist then). The server's RSS growth per connection, after a forced GC.
 */
export async function busyMemory(
  target: Target,
  server: RunningServer,
  options: { connections: number; channels: number; textLength: number },
): Promise<MemoryResult> {
  const before = await server.usage(true);
  const clients = await connectMany(target, server.port, options.connections, 200);
  await Promise.all(clients.map((client, index) => client.subscribe(`room:${index % options.channels}`)));
  const text = TEXT.repeat(Math.ceil(options.textLength / TEXT.length)).slice(0, options.textLength);
  await Promise.all(clients.map((client, index) => client.publish(`room:${index % options.channels}`, { text, t: 0 })));
  await pause(500);
  const after = await server.usage(true);
  close(clients);
  return { kilobytesPerConnection: (after.memory.rss - before.memory.rss) / 1024 / options.connections };
}

/**
 * Connect rate: `connections` handshakes, `concurrency` at a time (with the token check where the target has it),
 * after `warmup` connections, which stay open until the end so that closing them is not measured.
 */
export async function connectRate(
  target: Target,
  server: RunningServer,
  options: { connections: number; concurrency: number; warmup: number },
): Promise<ConnectResult> {
  const warm = await connectMany(target, server.port, options.warmup, options.concurrency);
  for (let index = 0; index < options.connections; index++) {
    tokenFor(`user${index}`);
  }
  const before = await server.usage();
  const started = performance.now();
  const clients = await connectMany(target, server.port, options.connections, options.concurrency);
  const elapsedMs = performance.now() - started;
  const after = await server.usage();
  close([...warm, ...clients]);
  return {
    connectionsPerSecond: (options.connections / elapsedMs) * 1000,
    serverMicrosPerConnection: cpuMicros(before, after) / options.connections,
  };
}

export interface JoinResult {
  readonly serverMicrosPerJoin: number;
  readonly joinsPerSecond: number;
}

/**
 * Joining one room: `clients` connections (opened first, not timed) subscribe to the target's `joinChannel` at
 * once; server CPU per join until every `subscribed` answer is in (and, in a presence room, the diffs it caused
 * are sent: the usage is read once the server has been idle for the diff window).
 */
export async function joinRoom(
  target: Target,
  server: RunningServer,
  options: { clients: number },
): Promise<JoinResult> {
  const clients = await connectMany(target, server.port, options.clients, 100);
  const channel = target.joinChannel!;
  const before = await server.usage();
  const started = performance.now();
  await Promise.all(clients.map((client) => client.subscribe(channel)));
  const elapsedMs = performance.now() - started;
  // The last diffs and counts go out within a second of the last join: they are part of the cost.
  await pause(1500);
  const after = await server.usage();
  close(clients);
  return {
    serverMicrosPerJoin: cpuMicros(before, after) / options.clients,
    joinsPerSecond: (options.clients / elapsedMs) * 1000,
  };
}

/** Wall-clock time in whole microseconds: the publish time a message carries, for end-to-end latency. */
function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

function close(clients: readonly BenchClient[]): void {
  for (const client of clients) {
    client.close();
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) {
      throw new Error('Deliveries did not complete in time');
    }
    await pause(5);
  }
}
