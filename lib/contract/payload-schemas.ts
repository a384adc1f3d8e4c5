import type * as ClassValidatorJsonSchema from 'class-validator-jsonschema';
import { loadTransformerStorage } from '../internals/class-transformer-internals.js';
import type { Route } from '../routing/dispatch-table.js';
import type { StandardSchemaV1 } from '../validation/standard-schema.js';

export interface PayloadSchemas {
  readonly byRoute: Map<Route, object>;
  /** The DTO schemas, by class name, for `#/components/schemas/<name>`. */
  readonly schemas: Record<string, object>;
}

const SCHEMA_PREFIX = '#/components/schemas/';

/**
 * The JSON Schema of each route's payload: a DTO's from its class-validator decorators (class-validator-jsonschema,
 * loaded only for this), a Standard Schema's from its own conversion where it has one (`~standard.jsonSchema`, or
 * zod's `toJSONSchema`), else none (the payload is then described as any value).
 */
export async function payloadSchemas(routes: readonly Route[]): Promise<PayloadSchemas> {
  const byRoute = new Map<Route, object>();
  const schemas: Record<string, object> = {};
  const dtoRoutes = routes.filter((route) => route.payload?.dto !== undefined && route.payload.schema === undefined);
  const all = dtoRoutes.length > 0 ? await dtoSchemas() : {};
  const include = (name: string): void => {
    if (schemas[name] !== undefined || all[name] === undefined) {
      return;
    }
    schemas[name] = all[name];
    for (const referenced of JSON.stringify(all[name]).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      include(referenced[1]);
    }
  };
  for (const route of routes) {
    const { dto, schema } = route.payload ?? {};
    if (schema !== undefined) {
      const converted = standardJsonSchema(schema);
      if (converted !== undefined) {
        byRoute.set(route, converted);
      }
    } else if (dto !== undefined && all[dto.name] !== undefined) {
      include(dto.name);
      byRoute.set(route, { $ref: `${SCHEMA_PREFIX}${dto.name}` });
    }
  }
  return { byRoute, schemas };
}

async function dtoSchemas(): Promise<Record<string, object>> {
  let converter: typeof ClassValidatorJsonSchema;
  try {
    converter = await import('class-validator-jsonschema');
  } catch (error) {
    throw new Error(
      'The AsyncAPI document describes DTO payloads with class-validator-jsonschema: npm install class-validator-jsonschema',
      { cause: error },
    );
  }
  const defaultMetadataStorage = await loadTransformerStorage().catch(() => undefined);
  return converter.validationMetadatasToSchemas({
    refPointerPrefix: SCHEMA_PREFIX,
    ...(defaultMetadataStorage === undefined
      ? {}
      : { classTransformerMetadataStorage: defaultMetadataStorage as never }),
  });
}

type Convertible = StandardSchemaV1 & {
  readonly '~standard': { readonly jsonSchema?: { input?: (options: { target: string }) => unknown } };
  readonly toJSONSchema?: () => unknown;
};

function standardJsonSchema(schema: StandardSchemaV1): object | undefined {
  const convertible = schema as Convertible;
  try {
    const standard = convertible['~standard'].jsonSchema?.input?.({ target: 'draft-2020-12' });
    if (typeof standard === 'object' && standard !== null) {
      return withoutDialect(standard);
    }
    const own = typeof convertible.toJSONSchema === 'function' ? convertible.toJSONSchema() : undefined;
    return typeof own === 'object' && own !== null ? withoutDialect(own) : undefined;
  } catch {
    return undefined; // a schema its library cannot express in JSON Schema (a transform, say)
  }
}

/** AsyncAPI embeds schemas in its own document: the `$schema` of a standalone one does not belong there. */
function withoutDialect(schema: object): object {
  const { $schema: _dialect, ...rest } = schema as Record<string, unknown>;
  return rest;
}
