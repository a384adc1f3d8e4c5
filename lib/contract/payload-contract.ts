import { RealtimeParamtype } from '../decorators/params.decorators.js';
import { ROUTE_ARGS_METADATA } from '../realtime.constants.js';
import { StandardSchemaPipe, type StandardSchemaV1 } from '../validation/standard-schema.js';

/** What a handler declares about its payload, for the AsyncAPI document: a DTO class or a Standard Schema. */
export interface PayloadContract {
  /** The `@Payload()` parameter's class (a DTO), when it has one. */
  readonly dto?: abstract new (...args: never[]) => unknown;
  /** The Standard Schema given to `@Payload(schema)`. */
  readonly schema?: StandardSchemaV1;
}

interface ParamEntry {
  readonly index: number;
  readonly data?: unknown;
  readonly pipes: readonly unknown[];
}

const BUILT_IN: readonly unknown[] = [Object, String, Number, Boolean, Array, Promise, Function];

/** The contract of the handler's whole-payload `@Payload()` parameter (none for `@Payload('property')`). */
export function payloadContractOf(instance: object, methodName: string): PayloadContract | undefined {
  const entries = (Reflect.getMetadata(ROUTE_ARGS_METADATA, instance.constructor, methodName) ?? {}) as Record<
    string,
    ParamEntry
  >;
  const paramTypes = (Reflect.getMetadata('design:paramtypes', instance, methodName) ?? []) as unknown[];
  for (const [key, entry] of Object.entries(entries)) {
    if (key !== `${RealtimeParamtype.PAYLOAD}:${entry.index}` || entry.data !== undefined) {
      continue;
    }
    const schema = entry.pipes.find((pipe): pipe is StandardSchemaPipe => pipe instanceof StandardSchemaPipe)?.schema;
    const type = paramTypes[entry.index];
    const dto =
      typeof type === 'function' && !BUILT_IN.includes(type)
        ? (type as abstract new (...args: never[]) => unknown)
        : undefined;
    return schema !== undefined || dto !== undefined ? { dto, schema } : undefined;
  }
  return undefined;
}
