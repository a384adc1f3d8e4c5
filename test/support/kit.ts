import { afterAll, beforeAll } from '@jest/globals';
import type { Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RealtimeTesting, type RealtimeTransport } from 'nestjs-realtime/testing';
import { CaptureLogger } from './capture-logger.js';

/** Both transports of the testing kit: specs that run on each say `describe.each(TRANSPORTS)`. */
export const TRANSPORTS: readonly RealtimeTransport[] = ['in-process', 'socket'];

export interface KitHolder {
  readonly rt: RealtimeTesting;
  /** What the app logged. */
  readonly logger: CaptureLogger;
}

/**
 * The testing kit on `module` for the tests of the enclosing `describe`, on `transport`: created before them, closed
 * after. Read `rt` inside tests and hooks.
 */
export function kitAroundSuite(module: Type, transport: RealtimeTransport): KitHolder {
  const holder = { logger: new CaptureLogger() } as { rt: RealtimeTesting; logger: CaptureLogger };
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [module] })
      .setLogger(holder.logger)
      .compile();
    holder.rt = await RealtimeTesting.create(moduleRef, { transport });
  });
  afterAll(async () => {
    await holder.rt?.close();
  });
  return holder;
}
