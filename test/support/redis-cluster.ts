import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sparePort } from './redis-server.js';
import { OwnProcess } from './own-process.js';

/** A Redis Cluster of three primaries this test file owns, on spare loopback ports; `stop()` removes it all. */
export class OwnRedisCluster {
  readonly #processes = new Map<number, OwnProcess>();

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
    await this.#node(port).start();
  }

  /** Kills one primary (SIGKILL): its slots are down until it comes back. */
  async kill(port: number): Promise<void> {
    await this.#processes.get(port)?.stop();
  }

  #node(port: number): OwnProcess {
    let node = this.#processes.get(port);
    if (node === undefined) {
      const dir = join(this.dir, String(port));
      mkdirSync(dir, { recursive: true });
      node = new OwnProcess(
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
      this.#processes.set(port, node);
    }
    return node;
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
    for (const node of this.#processes.values()) {
      await node.stop();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
