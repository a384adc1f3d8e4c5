import { Injectable } from '@nestjs/common';
import type { ChannelBinding, ChannelDefinition } from './channel-definition.js';

/**
 * The declared channels, looked up by channel name; the most specific pattern wins (`room:lobby` over `room:{id}`),
 * and patterns of the channel's exact segment count over those ending with a rest param (`events:{name...}`), of
 * which the one with the longest fixed part wins.
 */
@Injectable()
export class ChannelCatalog {
  readonly #bySegmentCount = new Map<number, ChannelDefinition[]>();
  /** Patterns ending with a rest param, the longest fixed part first. */
  readonly #rest: ChannelDefinition[] = [];

  add(definition: ChannelDefinition): void {
    const { pattern } = definition;
    const candidates = pattern.rest ? this.#rest : (this.#bySegmentCount.get(pattern.segmentCount) ?? []);
    const twin = candidates.find((existing) => existing.pattern.key === pattern.key);
    if (twin) {
      throw new Error(
        `Channel pattern "${pattern.source}" of ${definition.classRef.name} matches the same channels as ` +
          `"${twin.pattern.source}" of ${twin.classRef.name}: declare each channel pattern in one class`,
      );
    }
    candidates.push(definition);
    candidates.sort(
      (a, b) =>
        b.pattern.segmentCount - a.pattern.segmentCount ||
        (a.pattern.rank < b.pattern.rank ? -1 : a.pattern.rank > b.pattern.rank ? 1 : 0),
    );
    if (!pattern.rest) {
      this.#bySegmentCount.set(pattern.segmentCount, candidates);
    }
  }

  /** Every declared channel, for the AsyncAPI document. */
  definitions(): ChannelDefinition[] {
    return [...[...this.#bySegmentCount.values()].flat(), ...this.#rest];
  }

  match(channel: string): (ChannelBinding & { readonly definition: ChannelDefinition }) | undefined {
    return this.#first(this.#bySegmentCount.get(countSegments(channel)), channel) ?? this.#first(this.#rest, channel);
  }

  #first(
    candidates: readonly ChannelDefinition[] | undefined,
    channel: string,
  ): (ChannelBinding & { readonly definition: ChannelDefinition }) | undefined {
    for (const definition of candidates ?? []) {
      const params = definition.pattern.match(channel);
      if (params) {
        return { definition, params };
      }
    }
    return undefined;
  }

  /** A binding for any channel: the matching definition, or none for a channel no pattern declares. */
  bind(channel: string): ChannelBinding {
    return this.match(channel) ?? { definition: undefined, params: {} };
  }
}

function countSegments(channel: string): number {
  let count = 1;
  for (let index = channel.indexOf(':'); index !== -1; index = channel.indexOf(':', index + 1)) {
    count++;
  }
  return count;
}
