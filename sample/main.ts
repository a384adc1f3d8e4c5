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
logger.log(`Sample chat listening on ${await app.getUrl()} (WebSocket at /realtime)`);
