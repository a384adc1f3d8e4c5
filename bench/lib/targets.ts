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
}

const server = (file: string) => fileURLToPath(new URL(`../servers/${file}`, import.meta.url));

export const TARGETS: readonly Target[] = [
  { name: 'ws (raw)', script: server('raw-ws.js'), protocol: 'json', path: '/', authenticated: false },
  { name: 'Socket.IO 4.8', script: server('socketio.js'), protocol: 'sio', path: '/', authenticated: false },
  {
    name: 'nestjs-realtime',
    script: server('realtime.js'),
    protocol: 'json',
    path: '/realtime',
    authenticated: true,
  },
  {
    name: 'nestjs-realtime (msgpack)',
    script: server('realtime.js'),
    protocol: 'msgpack',
    path: '/realtime',
    authenticated: true,
    env: { BENCH_MSGPACK: '1' },
    onlyIn: 'Fan-out',
  },
];

export const HAS_TASKSET = spawnSync('taskset', ['-V']).status === 0;

/** Pins this process (the load generator) to core 0, where taskset exists. */
export function pinSelf(): void {
  if (HAS_TASKSET) {
    spawnSync('taskset', ['-cp', '0', String(process.pid)]);
  }
}

export interface RunningServer {
  readonly port: number;
  usage(gc?: boolean): Promise<ServerUsage>;
  stop(): Promise<void>;
}

/** Starts a target in its own process (pinned to core 1), and waits until it listens. */
export async function startServer(target: Target, profileDir?: string): Promise<RunningServer> {
  const profile = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const node = [process.execPath, '--expose-gc', ...profile, target.script];
  const options = {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'] as ('ignore' | 'inherit' | 'ipc')[],
    env: { ...process.env, ...target.env },
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
