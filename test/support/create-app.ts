import { afterAll, beforeAll } from '@jest/globals';
import type { INestApplication, LoggerService, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { CaptureLogger } from './capture-logger.js';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

export interface TestApp {
  app: INestApplication;
  /** `http://127.0.0.1:<port>`: TestClient turns it into the WebSocket URL. */
  url: string;
  logger: CaptureLogger;
}

/** Creates, configures and starts an app on a free loopback port, on the given HTTP platform. */
export async function startApp(
  module: Type,
  platform: Platform = 'express',
  configure?: (app: INestApplication) => void | Promise<void>,
): Promise<TestApp> {
  const logger = new CaptureLogger();
  const options = { logger: logger as LoggerService };
  const app =
    platform === 'fastify'
      ? await NestFactory.create(module, new FastifyAdapter(), options)
      : await NestFactory.create(module, options);
  await configure?.(app);
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl(), logger };
}

/**
 * Starts an app before the tests of the enclosing `describe` and closes it after them. The holder's `server` is set
 * once the app has started, so read it inside tests and hooks.
 */
export function appAroundSuite(module: Type, platform: Platform = 'express'): { readonly server: TestApp } {
  const holder = {} as { server: TestApp };
  beforeAll(async () => {
    holder.server = await startApp(module, platform);
  });
  afterAll(async () => {
    await holder.server.app.close();
  });
  return holder;
}
