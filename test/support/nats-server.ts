import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sparePort, uniquePrefix } from './redis-server.js';
import { OwnProcess } from './own-process.js';

/**
 * A `nats-server -js` this test file owns, on a spare loopback port with its own store directory (never the
 * machine's server on 4222); `stop()` kills it by its pid and removes the directory.
 */
export class OwnNats {
  readonly #process: OwnProcess;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {
    this.#process = new OwnProcess(
      'nats-server',
      ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir],
      'Server is ready',
      'stderr',
    );
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** A prefix no other test uses (letters, digits and `_` only: NATS names). */
  prefix(): string {
    return uniquePrefix().replace(/[^A-Za-z0-9]/g, '_');
  }

  static async start(): Promise<OwnNats> {
    if (spawnSync('nats-server', ['--version']).error !== undefined) {
      throw new Error('These tests need nats-server (Debian: apt-get install nats-server)');
    }
    const server = new OwnNats(await sparePort(), mkdtempSync(join(tmpdir(), 'realtime-nats-')));
    await server.restart();
    return server;
  }

  /** Starts it (again, when stopped) on the same port and store. */
  restart(): Promise<void> {
    return this.#process.start();
  }

  stop(): Promise<void> {
    return this.#process.stop();
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
