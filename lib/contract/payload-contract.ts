import { handlerParams } from '../routing/handler-params.js';
import { StandardSchemaPipe, type StandardSchemaV1 } from '../validation/standard-schema.js';

/** What a handler declares about its payload, for the AsyncAPI document: a DTO class or a Standard Schema. */
export interface PayloadContract {
  /** The `@Payload()` parameter's class (a DTO), when it has one. */
  readonly dto?: abstract new (...args: never[]) => unknown;
  /** The Standard Schema given to `@Payload(schema)`. */
  readonly schema?: StandardSchemaV1;
}

const BUILT_IN: readonly unknown[] = [Object, String, Number, Boolean, Array, Promise, Function];

/** The contract of the handler's whole-payload `@Payload()` parameter (none for `@Payload('property')`). */
export function payloadContractOf(instance: object, methodName: string): PayloadContract | undefined {
  for (const { entry, payload, metatype } of handlerParams(instance, methodName)) {
    if (!payload || entry.data !== undefined) {
      continue;
    }
    const schema = entry.pipes.find((pipe): pipe is StandardSchemaPipe => pipe instanceof StandardSchemaPipe)?.schema;
    const dto =
      typeof metatype === 'function' && !BUILT_IN.includes(metatype)
        ? (metatype as abstract new (...args: never[]) => unknown)
        : undefined;
    return schema !== undefined || dto !== undefined ? { dto, schema } : undefined;
  }
  return undefined;
}
