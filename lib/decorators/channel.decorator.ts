import { compileChannelPattern } from '../channels/channel-pattern.js';
import { CHANNEL_METADATA } from '../realtime.constants.js';

export interface ChannelMetadata {
  readonly pattern: string | undefined;
}

/**
 * Marks a provider class as realtime handlers. With a pattern (`room:{roomId}` binds a segment, `*` matches one),
 * clients may subscribe to matching channels, authorized by the class's guards and an optional
 * `canJoin(client, params)` method; its `@OnMessage` handlers take frames sent to those channels by subscribers.
 * Without a pattern, its handlers take frames of their types from any connection.
 * List the class in a module's `providers`, like any provider.
 *
 * @example
 * ```ts
 * @Channel('room:{roomId}')
 * export class RoomChannel {
 *   canJoin(client: RealtimeClient, params: { roomId: string }) {
 *     return client.userId !== null;
 *   }
 * }
 * ```
 */
export function Channel(pattern?: string): ClassDecorator {
  if (pattern !== undefined) {
    compileChannelPattern(pattern);
  }
  const metadata: ChannelMetadata = { pattern };
  return (target) => {
    Reflect.defineMetadata(CHANNEL_METADATA, metadata, target);
  };
}
