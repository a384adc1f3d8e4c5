import type { ExternalContextCreator } from '@nestjs/core';

/**
 * Every reach into Nest below its public API, in one place (`test/internals/nest-internals.spec.ts` fails loudly
 * when a supported version changes it).
 *
 * What for: Nest's fallback for an exception no filter handles logs it at ERROR with a stack; realtime handlers
 * answer such exceptions with an `error` frame instead, so the filter context of the `ExternalContextCreator` is
 * replaced by one that runs the app's filters and rethrows what none handled.
 */

export interface ExceptionsHandler {
  invokeCustomFilters?(exception: unknown, host: unknown): unknown;
  next?(exception: unknown, host: unknown): unknown;
}

export interface FiltersContextCreator {
  create(...args: unknown[]): ExceptionsHandler;
}

/** The creator's filter context, or undefined when this Nest version hides it. */
export function filtersContextOf(creator: ExternalContextCreator): FiltersContextCreator | undefined {
  const filters = (creator as unknown as { filtersContextCreator?: Partial<FiltersContextCreator> })
    .filtersContextCreator;
  return typeof filters?.create === 'function' ? (filters as FiltersContextCreator) : undefined;
}

/** A view of the shared creator with only its filter context replaced: the app's own instance is untouched. */
export function withFiltersContext(
  creator: ExternalContextCreator,
  filters: FiltersContextCreator,
): ExternalContextCreator {
  return Object.create(creator, { filtersContextCreator: { value: filters } }) as ExternalContextCreator;
}

const ENHANCER_CREATORS = [
  'guardsContextCreator',
  'interceptorsContextCreator',
  'pipesContextCreator',
  'filtersContextCreator',
] as const;

/**
 * The app's global guards, interceptors, pipes and exception filters (`useGlobalGuards()`, `APP_GUARD`, ...), as
 * the creator would apply them to a singleton handler; undefined when this Nest version hides them.
 *
 * What for: a handler with no enhancer at all, global or its own, is called directly instead of through the
 * creator's proxy, which would only add promises around it.
 */
export function globalEnhancersOf(creator: ExternalContextCreator): number | undefined {
  let count = 0;
  for (const name of ENHANCER_CREATORS) {
    const globals = globalsOf(creator, name);
    if (globals === undefined) {
      return undefined;
    }
    count += globals;
  }
  return count;
}

/**
 * How many global guards the app has (`useGlobalGuards()`, `APP_GUARD`); undefined when this Nest version hides
 * them. What for: a channel class whose joins a global guard checks is not open to everyone.
 */
export function globalGuardsOf(creator: ExternalContextCreator): number | undefined {
  return globalsOf(creator, 'guardsContextCreator');
}

/** How many global enhancers one of the creator's context creators holds; undefined when it hides them. */
function globalsOf(creator: ExternalContextCreator, name: (typeof ENHANCER_CREATORS)[number]): number | undefined {
  const context = (creator as unknown as Record<string, { getGlobalMetadata?: () => unknown } | undefined>)[name];
  const globals = typeof context?.getGlobalMetadata === 'function' ? context.getGlobalMetadata() : undefined;
  return Array.isArray(globals) ? globals.length : undefined;
}
