import { Injectable, Logger } from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';
import { type FiltersContextCreator, filtersContextOf, withFiltersContext } from '../internals/nest-internals.js';
import { ROUTE_ARGS_METADATA } from '../realtime.constants.js';
import { type HandlerArguments, realtimeParamsFactory } from './realtime-params.factory.js';

/** A handler wrapped in Nest's guards, interceptors, pipes and exception filters. */
export type PipelineHandler = (...args: HandlerArguments) => Promise<unknown>;

/**
 * Builds handler proxies once, at boot, with Nest's `ExternalContextCreator` in context type `'ws'`.
 *
 * Exception filters: the app's filters (`@UseFilters`, global ones) run as usual, and whatever one returns is the
 * result. Nest's fallback for an exception no filter handles logs it at ERROR with a stack, which would flood the
 * log with every refused guard and failed validation; this creator rethrows such an exception instead, so the
 * dispatcher answers it with an `error` frame and logs only the unexpected ones.
 */
@Injectable()
export class HandlerPipelineFactory {
  readonly #creator: ExternalContextCreator;
  readonly #filtersSupported: boolean;

  constructor(externalContextCreator: ExternalContextCreator) {
    const filters = filtersContextOf(externalContextCreator);
    this.#filtersSupported = filters !== undefined;
    if (filters === undefined) {
      new Logger('RealtimeModule').warn(
        'This Nest version hides its exception filter context: @UseFilters will not apply to realtime handlers',
      );
      this.#creator = externalContextCreator;
      return;
    }
    const fallthrough: FiltersContextCreator = {
      create: (...args) => {
        const handler = filters.create(...args);
        return {
          next(exception: unknown, host: unknown): unknown {
            const result = handler.invokeCustomFilters?.(exception, host);
            if (result == null) {
              throw exception;
            }
            return result;
          },
        };
      },
    };
    this.#creator = withFiltersContext(externalContextCreator, fallthrough);
  }

  /** A message handler: guards, interceptors, pipes, filters. */
  forMessage(instance: object, methodName: string): PipelineHandler {
    const callback = (instance as Record<string, unknown>)[methodName] as (...args: unknown[]) => unknown;
    return this.#create(instance, callback, methodName, true);
  }

  /** A join check: the class's guards (and `canJoin`'s own), pipes and filters; no interceptors. */
  forJoin(instance: object): PipelineHandler {
    const canJoin = (instance as { canJoin?: unknown }).canJoin;
    const callback = typeof canJoin === 'function' ? (canJoin as (...args: unknown[]) => unknown) : permitJoin;
    return this.#create(instance, callback, 'canJoin', false);
  }

  #create(
    instance: object,
    callback: (...args: unknown[]) => unknown,
    methodName: string,
    interceptors: boolean,
  ): PipelineHandler {
    return this.#creator.create(
      instance,
      callback,
      methodName,
      ROUTE_ARGS_METADATA,
      realtimeParamsFactory,
      undefined,
      undefined,
      { guards: true, interceptors, filters: this.#filtersSupported },
      'ws',
    ) as PipelineHandler;
  }
}

/** The join check of a channel class without `canJoin`: its guards alone decide. */
function permitJoin(): boolean {
  return true;
}
