import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sparePort } from './redis-server.js';

const RECOMMENDED = new URL('../../docs/nginx.conf', import.meta.url);

/** The server block of `docs/nginx.conf`, in front of `upstreamPort` and listening on `port`. */
export function recommendedConfig(upstreamPort: number, port: number): string {
  return readFileSync(RECOMMENDED, 'utf8')
    .replace('listen 8088;', `listen 127.0.0.1:${port};`)
    .replace('http://127.0.0.1:3000', `http://127.0.0.1:${upstreamPort}`);
}

/**
 * An nginx this test owns (Debian's package), on a spare loopback port, its files in a temporary directory; `site`
 * gives the `http` block's content for that port.
 */
export class OwnNginx {
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly child: ChildProcess,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(site: (port: number) => string): Promise<OwnNginx> {
    if (spawnSync('nginx', ['-v']).error !== undefined) {
      throw new Error('These tests need nginx (Debian: apt-get install nginx-light)');
    }
    const port = await sparePort();
    const dir = mkdtempSync(join(tmpdir(), 'realtime-nginx-'));
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
      .map((kind) => `${kind}_temp_path ${dir}/${kind};`)
      .join('\n');
    writeFileSync(
      `${dir}/nginx.conf`,
      `daemon off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\n` +
        `events {}\nhttp {\naccess_log off;\n${temp}\n${site(port)}\n}\n`,
    );
    const child = spawn('nginx', ['-p', dir, '-c', `${dir}/nginx.conf`], { stdio: 'ignore' });
    const server = new OwnNginx(port, dir, child);
    await server.#listening();
    return server;
  }

  /** Waits until the port accepts connections (nginx says nothing when it is ready), or it exits. */
  async #listening(): Promise<void> {
    const exited = new Promise<never>((_resolve, reject) =>
      this.child.once('exit', (code) =>
        reject(new Error(`nginx exited with ${code}: ${readFileSync(`${this.dir}/error.log`, 'utf8')}`)),
      ),
    );
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const open = await Promise.race([
        exited,
        new Promise<boolean>((resolve) => {
          const socket = connect(this.port, '127.0.0.1', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        }),
      ]);
      if (open) {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('nginx did not listen within 10 s');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
