/**
 * The reaches into class-transformer below its public API (`test/internals/class-transformer-internals.spec.ts`
 * fails loudly when a version changes it).
 *
 * What for: a DTO is validated on the compiled fast path only when `plainToInstance` would copy its properties as
 * they are. That holds when class-transformer keeps no `@Type`, `@Transform`, `@Expose` or `@Exclude` for the class
 * or an ancestor; its public API answers per property, not per class, so the storage's maps are read instead.
 */

/**
 * class-transformer's metadata storage (its `defaultMetadataStorage`), which has no export of its own: it is loaded
 * from the package's CommonJS build, the same module instance its decorators write to. Undefined when it is not
 * there.
 */
export async function loadTransformerStorage(): Promise<unknown> {
  const storagePath = 'class-transformer/cjs/storage.js';
  const storage = (await import(storagePath)) as { defaultMetadataStorage?: unknown };
  return storage.defaultMetadataStorage;
}

const MAPS = ['_typeMetadatas', '_transformMetadatas', '_exposeMetadatas', '_excludeMetadatas'] as const;

type Storage = Partial<Record<(typeof MAPS)[number], unknown>>;

/**
 * Whether class-transformer may change how `target` is built from a plain object. True when unsure (the storage is
 * not the shape this reads), so the caller takes the slow, exact path.
 */
export function mayTransform(storage: unknown, target: object): boolean {
  const maps = MAPS.map((name) => (storage as Storage | undefined)?.[name]);
  if (!maps.every((map) => map instanceof Map)) {
    return true;
  }
  for (let current: unknown = target; typeof current === 'function' && current !== Object.getPrototypeOf(Function);) {
    if (maps.some((map) => (map as Map<unknown, unknown>).has(current))) {
      return true;
    }
    current = Object.getPrototypeOf(current);
  }
  return false;
}
