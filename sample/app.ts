import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';

export interface SampleOptions {
  logger?: LoggerService | LogLevel[] | false;
  /** Nest's default (true) exits the process on a boot error; tests want the error instead. */
  abortOnError?: boolean;
}

/** The chat page (`sample/public`) and the built client SDK (`dist/client`), from `sample/` or `dist-sample/`. */
const PAGE_DIR = new URL('../sample/public', import.meta.url).pathname;
const CLIENT_DIR = new URL('../dist/client', import.meta.url).pathname;

/** The sample app, configured but not listening (tests and `main.ts` share it). */
export async function createSampleApp(options: SampleOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    logger: options.logger,
    abortOnError: options.abortOnError,
  });
  // The chat page at /, and the client SDK it imports at /client/ (built by `npm run build`).
  app.useStaticAssets(PAGE_DIR);
  app.useStaticAssets(CLIENT_DIR, { prefix: '/client/' });
  // No global ValidationPipe: realtime payloads are validated by the module's `validation` option (compiled once at
  // boot), REST bodies by the controllers' own pipes. A global one would validate every realtime payload twice.
  app.enableShutdownHooks();
  return app;
}
