import { Logger } from '@nestjs/common';
import { createSampleApp } from './app.js';
import { sampleBackend } from './realtime-options.js';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';

const app = await createSampleApp();
await app.listen(port, host);
const logger = new Logger('Sample');
if (!process.env.SAMPLE_SECRET) {
  logger.warn('SAMPLE_SECRET is not set: tokens are signed with the development secret');
}
const banners = {
  'in-process':
    'In-process broker: set REDIS_URL, REDIS_CLUSTER_NODES or NATS_URL to run several processes as one server',
  redis: 'Scaled out on Redis (REDIS_URL): processes with the same Redis serve the same users and rooms',
  'redis-cluster':
    'Scaled out on a Redis Cluster (REDIS_CLUSTER_NODES): processes with the same cluster serve the same users and rooms',
  nats: 'Scaled out on NATS (NATS_URL): processes with the same NATS serve the same users and rooms',
} as const;
logger.log(banners[sampleBackend(process.env)]);
logger.log(`Sample chat listening on ${await app.getUrl()} (WebSocket at /realtime)`);
