import { OwnNats } from '../../test/support/nats-server.js';
import { OwnRedisCluster } from '../../test/support/redis-cluster.js';
import { BACKEND_ADDRESSES } from './targets.js';

/**
 * A Redis Cluster (three primaries) and a `nats-server -js` of the run's own, on spare ports, for the scale-out rows;
 * the Redis is the machine's (`REDIS_URL` or 127.0.0.1:6379). The same helpers the tests use.
 */
export async function startBackends(): Promise<{ stop(): Promise<void> }> {
  const cluster = await OwnRedisCluster.start();
  const nats = await OwnNats.start();
  BACKEND_ADDRESSES.BENCH_CLUSTER_NODES = cluster.nodes.join(',');
  BACKEND_ADDRESSES.BENCH_NATS_URL = nats.url;
  return {
    stop: async () => {
      await cluster.stop();
      await nats.remove();
    },
  };
}
