import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { OwnProcess } from './own-process.js';

/** A Redis for one test file: its URL, and a key prefix no other test uses. */
export interface TestRedis {
  readonly url: string;
  /** A fresh prefix per call, so tests that share a Redis share no keys. */
  prefix(): string;
  /** Stops a Redis this helper started (nothing for `REDIS_URL`). */
  stop(): Promise<void>;
}

/**
 * `REDIS_URL` when set, else a `redis-server` started on a spare port for this test file (isolated: no shared
 * state, no neighbours), stopped by `stop()`. Fails, saying what to install, when neither is available.
 */
export async function useTestRedis(): Promise<TestRedis> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) {
    return { url: fromEnv, prefix: uniquePrefix, stop: () => Promise.resolve() };
  }
  const server = await OwnRedis.start();
  return { url: server.url, prefix: uniquePrefix, stop: () => server.stop() };
}

/** A `redis-server` process this test owns: it can stop and start it again on the same port (outage tests). */
export class OwnRedis {
  readonly #process: OwnProcess;

  private constructor(readonly port: number) {
    this.#process = new OwnProcess(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice'],
      'Ready to accept connections',
      'stdout',
    );
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<OwnRedis> {
    requireRedisServer();
    const server = new OwnRedis(await sparePort());
    await server.restart();
    return server;
  }

  /** Starts it (again, when stopped): empty, as a Redis without persistence comes back. */
  restart(): Promise<void> {
    return this.#process.start();
  }

  stop(): Promise<void> {
    return this.#process.stop();
  }
}

export function uniquePrefix(): string {
  return `test-${randomBytes(4).toString('hex')}:`;
}

function requireRedisServer(): void {
  if (spawnSync('redis-server', ['--version']).error !== undefined) {
    throw new Error(
      'These tests need Redis: install redis-server (Debian: apt-get install redis-server) or set REDIS_URL',
    );
  }
}

export async function sparePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
