import { RealtimeOptionsError } from '../util/option-checks.js';
import { type ChannelOptions, resolveChannelOptions } from '../channels/channel-options.js';
import { compileChannelPattern } from '../channels/channel-pattern.js';
import { CHANNEL_METADATA } from '../realtime.constants.js';

export interface ChannelMetadata {
  readonly pattern: string | undefined;
  readonly options: ChannelOptions | undefined;
}

/**
 * Marks a provider class as realtime handlers. With a pattern (`room:{roomId}` binds a segment, `*` matches one),
 * clients may subscribe to matching channels, authorized by the class's guards and an optional
 * `canJoin(client, params)` method; its `@OnMessage` handlers take frames sent to those channels by subscribers.
 * Without a pattern, its handlers take frames of their types from any connection.
 * List the class in a module's `providers`, like any provider.
 *
 * Options (validated at boot) turn on `presence` (members and join/leave events), `history` (kept messages with
 * offsets, replay and recovery) and `whispers` (client-to-channel events, filtered by an optional `onWhisper`).
 *
 * @example
 * ```ts
 * @Channel('room:{roomId}', { presence: true, history: { size: 100, replayOnJoin: 50 }, whispers: true })
 * export class RoomChannel {
 *   canJoin(client: RealtimeConnection, params: { roomId: string }) {
 *     return client.userId !== null;
 *   }
 * }
 * ```
 */
export function Channel(pattern?: string, options?: ChannelOptions): ClassDecorator {
  if (pattern !== undefined) {
    compileChannelPattern(pattern);
    resolveChannelOptions(pattern, options);
  } else if (options !== undefined) {
    throw new RealtimeOptionsError(
      '@Channel() options need a channel pattern: presence, history and whispers belong to channels',
    );
  }
  const metadata: ChannelMetadata = { pattern, options };
  return (target) => {
    Reflect.defineMetadata(CHANNEL_METADATA, metadata, target);
  };
}
