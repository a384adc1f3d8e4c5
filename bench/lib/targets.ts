import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServerReply, ServerUsage } from '../servers/ipc.js';

/** A server under test: how to start it, and how clients speak to it. */
export interface Target {
  readonly name: string;
  readonly script: string;
  /** `json`: the JSON envelope protocol over a plain WebSocket; `msgpack`: the same as MessagePack; `sio`: socket.io. */
  readonly protocol: 'json' | 'msgpack' | 'sio';
  /** Extra environment for the server process. */
  readonly env?: Readonly<Record<string, string>>;
  /** Only in scenarios whose title contains this (MessagePack is measured on fan-out). */
  readonly onlyIn?: string;
  /** URL path of the WebSocket endpoint (`json` only). */
  readonly path: string;
  /** Whether the handshake carries a JWT the server verifies. */
  readonly authenticated: boolean;
  /** Processes started together (scale-out on Redis): clients are spread over them, CPU is summed. Default 1. */
  readonly instances?: number;
  /** Whether clients offer permessage-deflate (`json` only). Default false. */
  readonly deflate?: boolean;
  /** The channel the join scenario's clients subscribe to. */
  readonly joinChannel?: string;
}

const server = (file: string) => fileURLToPath(new URL(`../servers/${file}`, import.meta.url));

/** The library's bench app (`servers/realtime.ts`), over JSON unless a target says otherwise. */
const LIBRARY = {
  script: server('realtime.js'),
  protocol: 'json',
  path: '/realtime',
  authenticated: true,
} as const satisfies Partial<Target>;

/** The scale-out backends, by name, and the `BENCH_BACKEND` of each (see `servers/realtime.ts`). */
const BACKEND_ENV = { Redis: 'redis', 'a Redis Cluster': 'redis-cluster', NATS: 'nats' } as const;
export const SCALE_OUT_BACKENDS = Object.keys(BACKEND_ENV) as (keyof typeof BACKEND_ENV)[];

function scaleOutTargets(): Target[] {
  return SCALE_OUT_BACKENDS.flatMap((backend) =>
    [1, 2].map((instances) => ({
      name: `nestjs-realtime on ${backend}, ${instances} instance${instances === 1 ? '' : 's'}`,
      ...LIBRARY,
      env: { BENCH_BACKEND: BACKEND_ENV[backend] },
      onlyIn: 'across instances',
      instances,
    })),
  );
}

export const TARGETS: readonly Target[] = [
  { name: 'ws (raw)', script: server('raw-ws.js'), protocol: 'json', path: '/', authenticated: false },
  {
    name: 'ws (raw, pre-framed)',
    script: server('raw-ws.js'),
    protocol: 'json',
    path: '/',
    authenticated: false,
    env: { RAW_PREFRAMED: '1' },
    onlyIn: 'Fan-out',
  },
  { name: 'Socket.IO 4.8', script: server('socketio.js'), protocol: 'sio', path: '/', authenticated: false },
  // What Nest users hand-roll without the library: the same guard and ValidationPipe, no handshake authentication.
  {
    name: 'Nest gateway (platform-ws)',
    script: server('nest-gateway.js'),
    protocol: 'json',
    path: '/',
    authenticated: false,
  },
  { name: 'nestjs-realtime', ...LIBRARY },
  // Breakdown rows: the library without the part of the app that is not the library.
  {
    name: 'nestjs-realtime without validation',
    ...LIBRARY,
    env: { BENCH_VALIDATION: '0' },
    onlyIn: 'Request/ack',
  },
  {
    name: 'nestjs-realtime, handler behind a guard',
    ...LIBRARY,
    env: { BENCH_GUARD: '1' },
    onlyIn: 'Request/ack',
  },
  {
    name: "nestjs-realtime with Nest's global ValidationPipe",
    ...LIBRARY,
    env: { BENCH_VALIDATION: 'global' },
    onlyIn: 'Request/ack',
  },
  {
    name: 'nestjs-realtime without authentication',
    ...LIBRARY,
    authenticated: false,
    env: { BENCH_ANONYMOUS: '1' },
    onlyIn: 'Connect rate',
  },
  {
    name: 'nestjs-realtime (msgpack)',
    ...LIBRARY,
    protocol: 'msgpack',
    env: { BENCH_MSGPACK: '1' },
    onlyIn: 'Fan-out',
  },
  // permessage-deflate's memory: clients offer it; the server turns it on with the settings BENCH_DEFLATE names.
  {
    name: 'nestjs-realtime, permessage-deflate (default settings)',
    ...LIBRARY,
    env: { BENCH_DEFLATE: 'default' },
    deflate: true,
    onlyIn: 'permessage-deflate',
  },
  {
    name: 'nestjs-realtime, permessage-deflate (window bits 10, memLevel 4)',
    ...LIBRARY,
    env: { BENCH_DEFLATE: 'lean' },
    deflate: true,
    onlyIn: 'permessage-deflate',
  },
  // One room, 10,000 joiners: a plain channel, and the sample's kind of room (presence, history, whispers).
  { name: 'nestjs-realtime, plain room', ...LIBRARY, joinChannel: 'plain:join', onlyIn: 'Joining one room' },
  {
    name: "nestjs-realtime, presence room (the sample's room:)",
    ...LIBRARY,
    joinChannel: 'room:join',
    onlyIn: 'Joining one room',
  },
  ...scaleOutTargets(),
];

/** Where the scale-out targets find their backends (`backends.ts` sets the cluster and NATS ones for a run). */
export const BACKEND_ADDRESSES: Record<string, string> = {
  BENCH_REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
};

export const HAS_TASKSET = spawnSync('taskset', ['-V']).status === 0;

/** Pins this process (the load generator) to core 0, where taskset exists. */
export function pinSelf(): void {
  if (HAS_TASKSET) {
    spawnSync('taskset', ['-cp', '0', String(process.pid)]);
  }
}

export interface RunningServer {
  /** The first instance's port. */
  readonly port: number;
  /** Every instance's port. */
  readonly ports: readonly number[];
  /** Every instance's process id. */
  readonly pids: readonly number[];
  /** CPU time and memory, summed over the instances. */
  usage(gc?: boolean): Promise<ServerUsage>;
  stop(): Promise<void>;
}

/** How a server's process is started, beyond the default. */
export interface Launch {
  /** Run with --cpu-prof, writing the profile here. */
  readonly profileDir?: string;
  /** A program that runs node (`valgrind --tool=callgrind ...`), with its arguments. */
  readonly wrapper?: readonly string[];
  /** More flags for node. */
  readonly nodeFlags?: readonly string[];
}

/**
 * Starts a target: each instance in its own process (pinned to core 1), sharing a fresh Redis key prefix when there
 * are several; waits until they all listen.
 */
export async function startServer(target: Target, launch: Launch = {}): Promise<RunningServer> {
  const env = {
    ...BACKEND_ADDRESSES,
    BENCH_PREFIX: `bench_${process.pid}_${Date.now()}`,
    ...target.env,
  };
  const instances = await Promise.all(
    Array.from({ length: target.instances ?? 1 }, () => startInstance(target, env, launch)),
  );
  return {
    port: instances[0].port,
    ports: instances.map((instance) => instance.port),
    pids: instances.map((instance) => instance.pid),
    usage: async (gc) => {
      const usages = await Promise.all(instances.map((instance) => instance.usage(gc)));
      return usages.reduce((sum, usage) => ({
        cpu: { user: sum.cpu.user + usage.cpu.user, system: sum.cpu.system + usage.cpu.system },
        memory: { ...sum.memory, rss: sum.memory.rss + usage.memory.rss },
      }));
    },
    stop: async () => {
      await Promise.all(instances.map((instance) => instance.stop()));
    },
  };
}

async function startInstance(
  target: Target,
  env: Record<string, string>,
  { profileDir, wrapper = [], nodeFlags = [] }: Launch,
): Promise<Omit<RunningServer, 'ports' | 'pids'> & { readonly pid: number }> {
  // Sampled every 100 µs (Node's default is 1 ms): a handshake or an ack is a few hundred µs of CPU.
  const profile =
    profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${profileDir}`];
  const node = [...wrapper, process.execPath, '--expose-gc', ...nodeFlags, ...profile, target.script];
  const options = {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'] as ('ignore' | 'inherit' | 'ipc')[],
    env: { ...process.env, ...env },
  };
  const child: ChildProcess = HAS_TASKSET
    ? spawn('taskset', ['-c', '1', ...node], options)
    : spawn(node[0], node.slice(1), options);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${target.name} exited with ${code}`)));
    child.on('message', (message: ServerReply) => {
      if ('ready' in message) {
        resolve(message.ready);
      }
    });
  });
  return {
    port,
    // taskset and valgrind run node in their own process: this one.
    pid: child.pid!,
    usage: (gc = false) =>
      new Promise((resolve) => {
        const listener = (message: ServerReply) => {
          if ('usage' in message) {
            child.off('message', listener);
            resolve(message.usage);
          }
        };
        child.on('message', listener);
        child.send({ cmd: 'usage', gc });
      }),
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        if (profileDir === undefined) {
          child.kill('SIGKILL');
        } else {
          child.disconnect(); // the server exits by itself, writing its profile
        }
      }),
  };
}

/** Server CPU time between two usage readings, in microseconds. */
export function cpuMicros(before: ServerUsage, after: ServerUsage): number {
  return after.cpu.user - before.cpu.user + (after.cpu.system - before.cpu.system);
}
