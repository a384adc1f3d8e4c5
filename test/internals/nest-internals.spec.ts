import { describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { filtersContextOf, globalEnhancersOf, withFiltersContext } from '../../lib/internals/nest-internals.js';

/**
 * The contract the library relies on below Nest's public API (lib/internals/nest-internals.ts); the e2e tests of
 * `@UseFilters` on realtime handlers show the whole behaviour, these name the part that broke.
 */
describe('Nest internals (the installed Nest keeps what realtime exception filters rely on)', () => {
  @Module({})
  class EmptyModule {}

  it("exposes the ExternalContextCreator's filter context, and a view can replace it without touching the original", async () => {
    const moduleRef = await Test.createTestingModule({ imports: [EmptyModule] }).compile();
    const creator = moduleRef.get(ExternalContextCreator);
    const filters = filtersContextOf(creator);
    expect(filters).toBeDefined();
    const handler = filters!.create({}, () => undefined, 'module-key');
    expect(typeof handler.invokeCustomFilters).toBe('function');
    const replacement = { create: () => ({}) };
    const view = withFiltersContext(creator, replacement);
    expect(filtersContextOf(view)).toBe(replacement);
    expect(filtersContextOf(creator)).toBe(filters);
    expect(typeof view.create).toBe('function');
    await moduleRef.close();
  });

  it("reads the app's global guards, interceptors, pipes and filters from the creator", async () => {
    const moduleRef = await Test.createTestingModule({ imports: [EmptyModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    const creator = app.get(ExternalContextCreator);
    expect(globalEnhancersOf(creator)).toBe(0);
    app.useGlobalGuards({ canActivate: () => true });
    app.useGlobalInterceptors({ intercept: (_context, next) => next.handle() });
    app.useGlobalPipes({ transform: (value: unknown) => value });
    app.useGlobalFilters({ catch: () => undefined });
    expect(globalEnhancersOf(creator)).toBe(4);
    expect(globalEnhancersOf({} as ExternalContextCreator)).toBeUndefined();
    await app.close();
  });
});
