import { Logger } from '@nestjs/common';
import { createSampleApp } from './app.js';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';

const app = await createSampleApp();
await app.listen(port, host);
const logger = new Logger('Sample');
if (!process.env.SAMPLE_SECRET) {
  logger.warn('SAMPLE_SECRET is not set: tokens are signed with the development secret');
}
logger.log(
  process.env.REDIS_URL
    ? 'Scaled out on Redis (REDIS_URL): processes with the same Redis serve the same users and rooms'
    : 'In-process broker: set REDIS_URL to run several processes as one server',
);
logger.log(`Sample chat listening on ${await app.getUrl()} (WebSocket at /realtime)`);
