/**
 * A DTO's class-validator rules resolved once into plain function calls: the same constraint functions
 * class-validator calls (so the same inputs pass), without its per-call metadata lookups, error objects and
 * promises. It only answers "valid or not": the errors of an invalid payload come from class-validator itself.
 */

/** A DTO class, as Nest's `ArgumentMetadata.metatype` gives it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type DtoClass = new (...args: any[]) => unknown;

/** The part of class-validator's metadata this reads (`getMetadataStorage()`). */
export interface ValidatorMetadataStorage {
  getTargetValidationMetadatas(
    target: DtoClass,
    targetSchema: string | undefined,
    always: boolean,
    strictGroups: boolean,
    groups?: string[],
  ): ValidationMetadataLike[];
  getTargetValidatorConstraints(target: unknown): ConstraintMetadataLike[];
}

interface ValidationMetadataLike {
  readonly type: string;
  readonly name?: string;
  readonly propertyName: string;
  readonly constraints: unknown[];
  readonly constraintCls: { readonly name?: string };
  readonly each: boolean;
}

interface ConstraintMetadataLike {
  readonly async: boolean;
  readonly instance: { validate(value: unknown, args: object): unknown };
}

/** True: valid; false: invalid; undefined: cannot tell synchronously (a constraint returned a promise). */
export type DtoCheck = (entity: Record<string, unknown>) => boolean | undefined;

export interface CompiledDto {
  readonly check: DtoCheck;
  /** The properties with any rule: what `whitelist` keeps. */
  readonly properties: ReadonlySet<string>;
}

/** A compiled DTO, or why it stays on class-validator's own path. */
export type DtoCompilation = { readonly compiled: CompiledDto } | { readonly fallback: string };

type Condition = (object: unknown, value: unknown) => unknown;

interface Rule {
  readonly validate: (value: unknown, args: object) => unknown;
  readonly constraints: unknown[];
  readonly each: boolean;
}

interface PropertyRules {
  readonly name: string;
  readonly conditions: readonly Condition[];
  /** `@IsDefined` first, then the others, as class-validator runs them. */
  readonly rules: readonly Rule[];
}

const CUSTOM = 'customValidation';
const CONDITIONAL = 'conditionalValidation';
const IS_DEFINED = 'isDefined';
const WHITELIST = 'whitelistValidation';

/** Resolves `metatype`'s rules, as class-validator would read them with no groups and `always` off. */
export function compileDto(metatype: DtoClass, storage: ValidatorMetadataStorage): DtoCompilation {
  const metadatas = storage.getTargetValidationMetadatas(metatype, undefined, false, false, undefined);
  if (metadatas.length === 0) {
    return { fallback: 'it has no validation decorators' };
  }
  const byProperty = new Map<string, ValidationMetadataLike[]>();
  for (const metadata of metadatas) {
    const list = byProperty.get(metadata.propertyName) ?? [];
    list.push(metadata);
    byProperty.set(metadata.propertyName, list);
  }
  const properties: PropertyRules[] = [];
  for (const [name, list] of byProperty) {
    const conditions: Condition[] = [];
    const defined: Rule[] = [];
    const others: Rule[] = [];
    for (const metadata of list) {
      switch (metadata.type) {
        case WHITELIST:
          break;
        case CONDITIONAL:
          conditions.push(metadata.constraints[0] as Condition);
          break;
        case IS_DEFINED:
        case CUSTOM: {
          for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
            if (constraint.async) {
              return { fallback: `the constraint ${describe(metadata)} of "${name}" is asynchronous` };
            }
            const rule = {
              validate: constraint.instance.validate.bind(constraint.instance),
              constraints: metadata.constraints,
              each: metadata.each,
            };
            (metadata.type === IS_DEFINED ? defined : others).push(rule);
          }
          break;
        }
        default:
          return { fallback: `"${name}" has ${metadata.type} (${describe(metadata)})` };
      }
    }
    properties.push({ name, conditions, rules: [...defined, ...others] });
  }
  const targetName = metatype.name;
  return {
    compiled: {
      properties: new Set(byProperty.keys()),
      check: (entity) => {
        let decided = true;
        for (const property of properties) {
          const value = entity[property.name];
          if (!property.conditions.every((condition) => condition(entity, value))) {
            continue;
          }
          for (const rule of property.rules) {
            if (rule.each && (Array.isArray(value) || value instanceof Set || value instanceof Map)) {
              decided = false;
              continue;
            }
            const args = { targetName, property: property.name, object: entity, value, constraints: rule.constraints };
            const result = rule.validate(value, args);
            if (isThenable(result)) {
              // A constraint not marked async answered a promise: class-validator's own path decides instead.
              (result as Promise<unknown>).then(undefined, () => undefined);
              decided = false;
            } else if (!result) {
              return false;
            }
          }
        }
        return decided ? true : undefined;
      },
    },
  };
}

function describe(metadata: ValidationMetadataLike): string {
  return metadata.name ?? metadata.constraintCls?.name ?? metadata.type;
}

function isThenable(value: unknown): boolean {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
