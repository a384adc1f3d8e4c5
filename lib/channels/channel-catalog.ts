import { Injectable } from '@nestjs/common';
import type { ChannelBinding, ChannelDefinition } from './channel-definition.js';

/** The declared channels, looked up by channel name; the most specific pattern wins (`room:lobby` over `room:{id}`). */
@Injectable()
export class ChannelCatalog {
  readonly #bySegmentCount = new Map<number, ChannelDefinition[]>();

  add(definition: ChannelDefinition): void {
    const { pattern } = definition;
    const candidates = this.#bySegmentCount.get(pattern.segmentCount) ?? [];
    const twin = candidates.find((existing) => existing.pattern.key === pattern.key);
    if (twin) {
      throw new Error(
        `Channel pattern "${pattern.source}" of ${definition.classRef.name} matches the same channels as ` +
          `"${twin.pattern.source}" of ${twin.classRef.name}: declare each channel pattern in one class`,
      );
    }
    candidates.push(definition);
    candidates.sort((a, b) => (a.pattern.rank < b.pattern.rank ? -1 : a.pattern.rank > b.pattern.rank ? 1 : 0));
    this.#bySegmentCount.set(pattern.segmentCount, candidates);
  }

  match(channel: string): (ChannelBinding & { readonly definition: ChannelDefinition }) | undefined {
    const candidates = this.#bySegmentCount.get(countSegments(channel));
    if (candidates) {
      for (const definition of candidates) {
        const params = definition.pattern.match(channel);
        if (params) {
          return { definition, params };
        }
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
