import type { Connection } from '../connection/connection.js';
import type { ErrorBody, InboundFrame } from '../protocol/envelope.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ChannelDefinition } from './channel-definition.js';
import type { ResolvedChannelOptions } from './channel-options.js';

export type ChannelFeature = keyof ResolvedChannelOptions;

/**
 * For control frames only subscribers may send about a channel (`whisper`, `presence`, `history`): the channel's
 * definition, or the refusal: `BAD_REQUEST` without a channel, `NOT_SUBSCRIBED` from a non-member, `FORBIDDEN` when
 * the channel does not offer the feature.
 */
export function subscriberAccess(
  connection: Connection,
  frame: InboundFrame,
  feature: ChannelFeature,
): { readonly channel: string; readonly definition: ChannelDefinition } | ErrorBody {
  const { channel, type } = frame;
  if (channel === undefined) {
    return { code: ErrorCode.BAD_REQUEST, message: `"channel" is required in a "${type}" frame` };
  }
  const binding = connection.binding(channel);
  if (binding === undefined) {
    return { code: ErrorCode.NOT_SUBSCRIBED, message: `Subscribe to "${channel}" before sending "${type}" to it` };
  }
  const { definition } = binding;
  if (definition === undefined || !definition.options[feature]) {
    return { code: ErrorCode.FORBIDDEN, message: `Channel "${channel}" does not offer ${feature}` };
  }
  return { channel, definition };
}
