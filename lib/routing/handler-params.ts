import { RealtimeParamtype } from '../decorators/params.decorators.js';
import { ROUTE_ARGS_METADATA } from '../realtime.constants.js';

/** One parameter decorator's entry in Nest's route-arguments metadata, as the decorators store it. */
export interface RouteArgsEntry {
  readonly index: number;
  readonly data?: unknown;
  readonly pipes: readonly unknown[];
}

/** A handler parameter declared by a decorator, with its metadata key and its declared type. */
export interface HandlerParam {
  /** Nest's key: `<paramtype>:<index>`, with a marker for `createParamDecorator()` ones. */
  readonly key: string;
  readonly entry: RouteArgsEntry;
  /** The parameter type number (`RealtimeParamtype`). */
  readonly type: number;
  /** A parameter of a `createParamDecorator()` decorator, which only Nest's proxy resolves. */
  readonly custom: boolean;
  /** Its `design:paramtypes` entry: a DTO class, `String`, `Object` (an interface)... */
  readonly metatype: unknown;
  /** A `@Payload()` / `@MessageBody()` parameter (the whole payload, or one property with `data`). */
  readonly payload: boolean;
}

/** Nest's marker in the metadata key of a `createParamDecorator()` parameter. */
const CUSTOM_PARAM = '__customRouteArgs__';

/**
 * The decorated parameters of a handler, read once from its metadata: what the pipeline factory, the direct call
 * and the AsyncAPI document each need to know about them.
 */
export function handlerParams(instance: object, methodName: string): HandlerParam[] {
  const entries = (Reflect.getMetadata(ROUTE_ARGS_METADATA, instance.constructor, methodName) ?? {}) as Record<
    string,
    RouteArgsEntry
  >;
  const paramTypes = (Reflect.getMetadata('design:paramtypes', instance, methodName) ?? []) as unknown[];
  return Object.entries(entries).map(([key, entry]) => ({
    key,
    entry,
    type: Number(key.split(':')[0]),
    custom: key.includes(CUSTOM_PARAM),
    metatype: paramTypes[entry.index],
    payload: key === `${RealtimeParamtype.PAYLOAD}:${entry.index}`,
  }));
}
