import { type INestApplication, type LoggerService, type LogLevel, ValidationPipe } from '@nestjs/common';
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
  // Validates REST bodies and realtime payloads alike: a ValidationPipe failure on a realtime handler is answered
  // with VALIDATION_FAILED.
  app.useGlobalPipes(new ValidationPipe({ whitelist: true }));
  app.enableShutdownHooks();
  return app;
}
