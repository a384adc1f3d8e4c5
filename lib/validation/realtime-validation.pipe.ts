import { type ArgumentMetadata, Injectable, Logger, ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import { loadTransformerStorage, mayTransform } from '../internals/class-transformer-internals.js';
import { type CompiledDto, compileDto, type DtoClass, type ValidatorMetadataStorage } from './compiled-dto.js';

/**
 * Options that change only how errors are reported, or that the compiled path reproduces: any other option (groups,
 * `skipMissingProperties`, `transformOptions`, ...) sends every value through `ValidationPipe`'s own path.
 */
const FAST_PATH_OPTIONS: ReadonlySet<string> = new Set([
  'transform',
  'whitelist',
  'forbidNonWhitelisted',
  'forbidUnknownValues',
  'disableErrorMessages',
  'errorHttpStatusCode',
  'exceptionFactory',
  'errorFormat',
  'maxErrorMessagesLength',
  'validationError',
  'dismissDefaultMessages',
  'stopAtFirstError',
  'enableDebugMessages',
]);

/** Keys `ValidationPipe` strips from a value before it builds the class (prototype pollution). */
const PROTO_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const SLOW = Symbol('slow');

interface Packages {
  readonly storage: ValidatorMetadataStorage;
  readonly transformerStorage: unknown;
}

/**
 * A drop-in `ValidationPipe` whose DTOs are compiled once into synchronous checks that call the very constraint
 * functions class-validator calls. Same options, same results, same `400` errors (an invalid value is handed to
 * `ValidationPipe` itself, which builds them), at a small fraction of the cost per message.
 *
 * The compiled path takes plain objects whose properties are primitives (what chat messages, commands and most
 * request bodies are) for DTOs without class-transformer decorators, nested validation or asynchronous
 * constraints; everything else goes through `ValidationPipe` as before. A DTO that falls back is logged once, naming
 * why. Use it where you would use `ValidationPipe` (globally, per handler, per parameter), or let the module apply it
 * to every realtime payload with the `validation` option, which also compiles at boot.
 */
@Injectable()
export class RealtimeValidationPipe extends ValidationPipe {
  readonly #fastPath: boolean;
  readonly #logger = new Logger('RealtimeValidation');
  readonly #compiled = new Map<DtoClass, CompiledDto | null>();
  readonly #loading: Promise<Packages | undefined>;
  #packages: Packages | undefined;

  constructor(options: ValidationPipeOptions = {}) {
    super(options);
    const unsupported = Object.keys(options).filter((key) => !FAST_PATH_OPTIONS.has(key));
    this.#fastPath = unsupported.length === 0;
    if (!this.#fastPath) {
      this.#logger.warn(
        `Every payload goes through ValidationPipe's own path: the compiled path does not support ${unsupported
          .map((key) => `"${key}"`)
          .join(', ')}`,
      );
    }
    this.#loading = this.#fastPath ? loadPackages() : Promise.resolve(undefined);
    this.#loading.then(
      (packages) => (this.#packages = packages),
      () => undefined,
    );
  }

  /**
   * Compiles the checks of `metatype` now rather than on first use, and answers why it stays on `ValidationPipe`'s
   * own path, if it does (also logged).
   */
  async prepare(metatype: DtoClass): Promise<string | undefined> {
    this.#packages ??= await this.#loading;
    return this.#compile(metatype).reason;
  }

  /**
   * Validates (and, with `transform`, converts) a payload: the compiled check for DTOs that have one,
   * `ValidationPipe`'s own path for the rest. Returns `any`, as ValidationPipe's own does a promise: a compiled
   * result is returned as it is, without one.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override transform(value: unknown, metadata: ArgumentMetadata): any {
    const result = this.#packages === undefined ? SLOW : this.#tryCompiled(value, metadata);
    return result === SLOW ? super.transform(value, metadata) : result;
  }

  #tryCompiled(value: unknown, metadata: ArgumentMetadata): unknown {
    const { metatype } = metadata;
    if (!metatype || !this.toValidate(metadata)) {
      // Not validated (a string, the connection, a custom decorator's value): as ValidationPipe, without a promise.
      return this.isTransformEnabled ? this.transformPrimitive(value, metadata) : value;
    }
    if (!isFlatPlainObject(value)) {
      return SLOW;
    }
    const compiled = this.#compiled.get(metatype) ?? this.#compile(metatype).compiled;
    if (compiled == null) {
      return SLOW;
    }
    const entity = buildEntity(metatype, value);
    if (this.validatorOptions.whitelist) {
      for (const key of Object.keys(entity)) {
        if (!compiled.properties.has(key)) {
          if (this.validatorOptions.forbidNonWhitelisted) {
            return SLOW;
          }
          delete entity[key];
        }
      }
    }
    if (compiled.check(entity) !== true) {
      return SLOW;
    }
    if (this.isTransformEnabled) {
      return entity;
    }
    // As ValidationPipe: with validator options beyond its own `forbidUnknownValues`, a plain copy of the entity.
    return Object.keys(this.validatorOptions).length > 1 ? plainCopy(entity) : value;
  }

  #compile(metatype: DtoClass): { compiled: CompiledDto | null; reason?: string } {
    const known = this.#compiled.get(metatype);
    if (known !== undefined) {
      return { compiled: known };
    }
    const packages = this.#packages;
    if (packages === undefined || isBuiltIn(metatype)) {
      return { compiled: null };
    }
    let reason: string | undefined;
    if (mayTransform(packages.transformerStorage, metatype)) {
      reason = 'it has class-transformer decorators (@Type, @Transform, @Expose or @Exclude)';
    } else {
      const compilation = compileDto(metatype, packages.storage);
      reason = 'fallback' in compilation ? compilation.fallback : undefined;
      this.#compiled.set(metatype, 'compiled' in compilation ? compilation.compiled : null);
    }
    if (reason !== undefined) {
      this.#compiled.set(metatype, null);
      this.#logger.log(`${metatype.name} is validated by class-validator on each message: ${reason}`);
    }
    return { compiled: this.#compiled.get(metatype) ?? null, reason };
  }
}

async function loadPackages(): Promise<Packages | undefined> {
  const [validator, transformerStorage] = await Promise.all([import('class-validator'), loadTransformerStorage()]);
  return { storage: validator.getMetadataStorage() as unknown as ValidatorMetadataStorage, transformerStorage };
}

/** A plain object whose own properties are all primitives, without keys ValidationPipe would strip. */
function isFlatPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  // Object.prototype of any realm (a vm context's, a worker's), or none.
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== null && Object.getPrototypeOf(prototype) !== null) {
    return false;
  }
  for (const key in value) {
    const property = (value as Record<string, unknown>)[key];
    if ((typeof property === 'object' && property !== null) || typeof property === 'function' || PROTO_KEYS.has(key)) {
      return false;
    }
  }
  return true;
}

/** What class-transformer's `plainToInstance` builds from such an object for a class without its decorators. */
function buildEntity(metatype: DtoClass, value: Record<string, unknown>): Record<string, unknown> {
  const entity = new metatype() as Record<string, unknown>;
  const prototype = metatype.prototype as object;
  for (const key of Object.keys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(prototype, key);
    if ((descriptor && !descriptor.set) || entity[key] instanceof Function) {
      continue;
    }
    entity[key] = value[key];
  }
  return entity;
}

/** What `classToPlain` gives for such an entity: its own enumerable properties. */
function plainCopy(entity: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(entity)) {
    copy[key] = entity[key];
  }
  return copy;
}

/** Types ValidationPipe never validates. */
function isBuiltIn(metatype: DtoClass): boolean {
  return [String, Boolean, Number, Array, Object, Buffer, Date].includes(metatype as never);
}
