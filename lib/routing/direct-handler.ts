import type { ArgumentMetadata } from '@nestjs/common';
import type { DtoClass } from '../validation/compiled-dto.js';
import type { RealtimeValidationPipe } from '../validation/realtime-validation.pipe.js';
import type { PipelineHandler } from './handler-pipeline.factory.js';
import { handlerParams } from './handler-params.js';
import { type HandlerArguments, realtimeParamsFactory } from './realtime-params.factory.js';

interface Param {
  readonly index: number;
  readonly type: number;
  readonly data: unknown;
  /** With the `validation` option, on a `@Payload()` parameter: its validation. */
  readonly validation?: ArgumentMetadata;
}

/**
 * A handler called as Nest's proxy would call it when no guard, interceptor, pipe or filter applies: the same
 * arguments from the same parameter decorators (the raw arguments when there are none), then the module's
 * validation of the payload, as the proxy would run it last. Undefined when a parameter needs the proxy (a
 * custom parameter decorator, a pipe of its own).
 */
export function directHandler(
  instance: object,
  methodName: string,
  validation: RealtimeValidationPipe | undefined,
): { readonly handler: PipelineHandler; readonly payloadTypes: readonly DtoClass[] } | undefined {
  const callback = (instance as Record<string, (...args: unknown[]) => unknown>)[methodName];
  const params: Param[] = [];
  const payloadTypes: DtoClass[] = [];
  for (const { entry, type, custom, metatype, payload } of handlerParams(instance, methodName)) {
    if (custom || entry.pipes.length > 0) {
      return undefined;
    }
    const validated = validation !== undefined && payload;
    if (validated && typeof metatype === 'function') {
      payloadTypes.push(metatype as DtoClass);
    }
    params.push({
      index: entry.index,
      type,
      data: entry.data,
      validation: validated
        ? {
            type: type as unknown as ArgumentMetadata['type'],
            metatype: metatype as DtoClass,
            data: entry.data as string,
          }
        : undefined,
    });
  }
  if (params.length === 0) {
    return { handler: (...args: HandlerArguments) => callback.apply(instance, args), payloadTypes };
  }
  const length = Math.max(...params.map(({ index }) => index)) + 1;
  const handler = (...args: HandlerArguments): unknown => {
    const values: unknown[] = new Array(length).fill(undefined);
    let pending: Promise<void>[] | undefined;
    for (const param of params) {
      const value = realtimeParamsFactory.exchangeKeyForValue(param.type, param.data, args);
      if (param.validation === undefined) {
        values[param.index] = value;
        continue;
      }
      const validated: unknown = validation!.transform(value, param.validation);
      if (validated instanceof Promise) {
        (pending ??= []).push(validated.then((result) => void (values[param.index] = result)));
      } else {
        values[param.index] = validated;
      }
    }
    return pending === undefined
      ? callback.apply(instance, values)
      : Promise.all(pending).then(() => callback.apply(instance, values));
  };
  return { handler, payloadTypes };
}
