import { RealtimeOptionsError } from '../util/option-checks.js';
import { Injectable } from '@nestjs/common';
import type { ChannelDefinition } from '../channels/channel-definition.js';
import type { PayloadContract } from '../contract/payload-contract.js';
import type { PipelineHandler } from './handler-pipeline.factory.js';

export interface Route {
  readonly type: string;
  /** The channel class the handler belongs to; undefined for a class without a pattern (global handlers). */
  readonly definition: ChannelDefinition | undefined;
  readonly handler: PipelineHandler;
  /** `ClassName.method`, for errors and logs. */
  readonly name: string;
  /** What the handler declares about its payload (for the AsyncAPI document). */
  readonly payload?: PayloadContract;
}

export interface TypeRoutes {
  global: Route | undefined;
  readonly byChannel: Map<ChannelDefinition, Route>;
}

/** Routes by message type, built once at boot: one global handler and one per channel class at most. */
@Injectable()
export class DispatchTable {
  readonly #byType = new Map<string, TypeRoutes>();

  add(route: Route): void {
    let routes = this.#byType.get(route.type);
    if (!routes) {
      routes = { global: undefined, byChannel: new Map() };
      this.#byType.set(route.type, routes);
    }
    const existing = route.definition ? routes.byChannel.get(route.definition) : routes.global;
    if (existing) {
      const scope = route.definition ? `channel "${route.definition.pattern.source}"` : 'global handlers';
      throw new RealtimeOptionsError(
        `Two realtime handlers for message type "${route.type}" in ${scope}: ${existing.name} and ${route.name}`,
      );
    }
    if (route.definition) {
      routes.byChannel.set(route.definition, route);
    } else {
      routes.global = route;
    }
  }

  lookup(type: string): TypeRoutes | undefined {
    return this.#byType.get(type);
  }

  /** Every route, for the AsyncAPI document. */
  routes(): Route[] {
    return [...this.#byType.values()].flatMap(({ global, byChannel }) => [
      ...(global ? [global] : []),
      ...byChannel.values(),
    ]);
  }

  get size(): number {
    return this.#byType.size;
  }
}
