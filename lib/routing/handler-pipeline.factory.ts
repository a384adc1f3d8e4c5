import { Inject, Injectable, Logger } from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';
import {
  type FiltersContextCreator,
  filtersContextOf,
  globalEnhancersOf,
  globalGuardsOf,
  withFiltersContext,
} from '../internals/nest-internals.js';
import { ENHANCER_METADATA, GUARDS_METADATA, RESOLVED_OPTIONS, ROUTE_ARGS_METADATA } from '../realtime.constants.js';
import type { ResolvedRealtimeOptions } from '../realtime.options.js';
import type { DtoClass } from '../validation/compiled-dto.js';
import { RealtimeValidationPipe } from '../validation/realtime-validation.pipe.js';
import { StandardSchemaPipe } from '../validation/standard-schema.js';
import { type HandlerArguments, realtimeParamsFactory } from './realtime-params.factory.js';
import { directHandler } from './direct-handler.js';
import { type RouteArgsEntry, handlerParams } from './handler-params.js';

/**
 * A handler wrapped in Nest's guards, interceptors, pipes and exception filters (or called directly, without any):
 * answers its result, a promise of it, or an Observable.
 */
export type PipelineHandler = (...args: HandlerArguments) => unknown;

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
  /** The creator as the app configured it, to read its global enhancers from. */
  readonly #appCreator: ExternalContextCreator;
  /** With the `validation` option: the pipe every `@Payload()` goes through, after its own pipes. */
  readonly #validation: RealtimeValidationPipe | undefined;
  /** The metadata key of the parameters with that pipe added (one per module, as options may differ). */
  readonly #validatedArgsKey = `${ROUTE_ARGS_METADATA}:realtime-validated:${++factories}`;
  /** The DTO classes of the handlers' payloads, compiled by {@link prepareValidation}. */
  readonly #payloadTypes = new Set<DtoClass>();

  constructor(
    externalContextCreator: ExternalContextCreator,
    @Inject(RESOLVED_OPTIONS) options: ResolvedRealtimeOptions,
  ) {
    this.#validation = options.validation && new RealtimeValidationPipe(options.validation);
    this.#appCreator = externalContextCreator;
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

  /**
   * A message handler: guards, interceptors, pipes, filters. A handler with none of them, its own or the app's
   * global ones, and only the library's parameter decorators, is called directly: the proxy would add nothing but
   * promises around it.
   */
  forMessage(instance: object, methodName: string): PipelineHandler {
    const callback = (instance as Record<string, unknown>)[methodName] as (...args: unknown[]) => unknown;
    // Read at boot (module init), after the app's useGlobalGuards() and the like, as the creator reads them.
    if (globalEnhancersOf(this.#appCreator) === 0 && !hasEnhancers(instance, callback)) {
      const direct = directHandler(instance, methodName, this.#validation);
      if (direct !== undefined) {
        direct.payloadTypes.forEach((type) => this.#payloadTypes.add(type));
        return direct.handler;
      }
    }
    const argsKey = this.#validation ? this.#withValidation(instance, methodName, this.#validation) : undefined;
    return this.#create(instance, callback, methodName, true, argsKey);
  }

  /** Compiles the validation of every payload type seen so far (at boot, after the handlers are built). */
  async prepareValidation(): Promise<void> {
    const validation = this.#validation;
    if (validation !== undefined) {
      await Promise.all([...this.#payloadTypes].map((type) => validation.prepare(type)));
    }
  }

  /**
   * Defines the handler's parameters under a key of this module's own, with the validation pipe last on each
   * `@Payload()` that has no Standard Schema of its own. The class's own metadata is left as it is.
   */
  #withValidation(instance: object, methodName: string, pipe: RealtimeValidationPipe): string {
    const validated: Record<string, RouteArgsEntry> = {};
    for (const { key, entry, payload, metatype } of handlerParams(instance, methodName)) {
      if (!payload || entry.pipes.some((existing) => existing instanceof StandardSchemaPipe)) {
        validated[key] = entry;
        continue;
      }
      validated[key] = { ...entry, pipes: [...entry.pipes, pipe] };
      if (typeof metatype === 'function') {
        this.#payloadTypes.add(metatype as DtoClass);
      }
    }
    Reflect.defineMetadata(this.#validatedArgsKey, validated, instance.constructor, methodName);
    return this.#validatedArgsKey;
  }

  /**
   * Whether guards check a channel class's joins: its own (`@UseGuards` on the class or on `canJoin`) or the app's
   * global ones. A Nest version that hides its global guards counts as having none.
   */
  joinGuarded(instance: object): boolean {
    const canJoin = (instance as { canJoin?: unknown }).canJoin;
    const targets = typeof canJoin === 'function' ? [instance.constructor, canJoin] : [instance.constructor];
    return declares(GUARDS_METADATA, targets) || (globalGuardsOf(this.#appCreator) ?? 0) > 0;
  }

  /** A join check: the class's guards (and `canJoin`'s own), pipes and filters; no interceptors. */
  forJoin(instance: object): (...args: HandlerArguments) => Promise<unknown> {
    const canJoin = (instance as { canJoin?: unknown }).canJoin;
    const callback = typeof canJoin === 'function' ? (canJoin as (...args: unknown[]) => unknown) : permitJoin;
    return this.#create(instance, callback, 'canJoin', false) as (...args: HandlerArguments) => Promise<unknown>;
  }

  #create(
    instance: object,
    callback: (...args: unknown[]) => unknown,
    methodName: string,
    interceptors: boolean,
    argsKey = ROUTE_ARGS_METADATA,
  ): PipelineHandler {
    return this.#creator.create(
      instance,
      callback,
      methodName,
      argsKey,
      realtimeParamsFactory,
      undefined,
      undefined,
      { guards: true, interceptors, filters: this.#filtersSupported },
      'ws',
    ) as PipelineHandler;
  }
}

let factories = 0;

/** Whether the class or the method declares guards, interceptors, pipes or exception filters. */
function hasEnhancers(instance: object, method: object): boolean {
  return ENHANCER_METADATA.some((key) => declares(key, [instance.constructor, method]));
}

/** Whether any of `targets` (a class, a method) has enhancers of this metadata key (`@UseGuards` and the like). */
function declares(key: string, targets: readonly object[]): boolean {
  return targets.some((target) => ((Reflect.getMetadata(key, target) as unknown[] | undefined) ?? []).length > 0);
}

/** The join check of a channel class without `canJoin`: its guards alone decide. */
function permitJoin(): boolean {
  return true;
}
