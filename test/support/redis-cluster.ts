import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sparePort } from './redis-server.js';
import { killAndWait, spawnUntilReady } from './spawn-until-ready.js';

/** A Redis Cluster of three primaries this test file owns, on spare loopback ports; `stop()` removes it all. */
export class OwnRedisCluster {
  readonly #processes = new Map<number, ChildProcess>();

  private constructor(
    readonly ports: readonly number[],
    private readonly dir: string,
  ) {}

  /** `host:port` of every primary, as `redisRealtime({ cluster })` and `REDIS_CLUSTER_NODES` take them. */
  get nodes(): string[] {
    return this.ports.map((port) => `127.0.0.1:${port}`);
  }

  static async start(): Promise<OwnRedisCluster> {
    if (spawnSync('redis-server', ['--version']).error !== undefined) {
      throw new Error('These tests need redis-server and redis-cli (Debian: apt-get install redis-server)');
    }
    const ports = [await sparePort(), await sparePort(), await sparePort()];
    const cluster = new OwnRedisCluster(ports, mkdtempSync(join(tmpdir(), 'realtime-cluster-')));
    for (const port of ports) {
      await cluster.startNode(port);
    }
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...cluster.nodes, '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0) {
      await cluster.stop();
      throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    }
    await cluster.waitUntilOk();
    return cluster;
  }

  /** Starts one node (again, after `kill`): it rejoins the cluster with its own `nodes.conf`. */
  async startNode(port: number): Promise<void> {
    const dir = join(this.dir, String(port));
    spawnSync('mkdir', ['-p', dir]);
    const child = await spawnUntilReady(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        '2000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      'Ready to accept connections',
      'stdout',
    );
    this.#processes.set(port, child);
  }

  /** Kills one primary (SIGKILL): its slots are down until it comes back. */
  async kill(port: number): Promise<void> {
    const child = this.#processes.get(port);
    this.#processes.delete(port);
    await killAndWait(child);
  }

  /** Resolves once every node says `cluster_state:ok` (every slot served). */
  async waitUntilOk(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = this.ports.map(
        (port) => spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout,
      );
      if (states.every((info) => info.includes('cluster_state:ok'))) {
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`The test Redis Cluster is not ok after ${timeoutMs} ms: ${states.join(' | ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    for (const port of [...this.#processes.keys()]) {
      await this.kill(port);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
