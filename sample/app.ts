import { type INestApplication, type LoggerService, type LogLevel, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

export interface SampleOptions {
  logger?: LoggerService | LogLevel[] | false;
  /** Nest's default (true) exits the process on a boot error; tests want the error instead. */
  abortOnError?: boolean;
}

/** The sample app, configured but not listening (tests and `main.ts` share it). */
export async function createSampleApp(options: SampleOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule, { logger: options.logger, abortOnError: options.abortOnError });
  // Validates REST bodies and realtime payloads alike: a ValidationPipe failure on a realtime handler is answered
  // with VALIDATION_FAILED.
  app.useGlobalPipes(new ValidationPipe({ whitelist: true }));
  app.enableShutdownHooks();
  return app;
}
