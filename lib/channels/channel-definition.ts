import type { Type } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { ResolvedChannelOptions } from './channel-options.js';
import type { ChannelPattern } from './channel-pattern.js';
import type { RealtimeConnection } from '../interfaces/realtime-connection.interface.js';
import type { InboundFrame } from '../protocol/envelope.js';

/** What handlers and join checks get besides the client and the payload (the third argument of the pipeline). */
export interface MessageContext {
  readonly frame: InboundFrame;
  readonly channel: string | undefined;
  readonly params: Readonly<Record<string, string>>;
}

/** Runs a channel class's guards and `canJoin`; resolves to whether the join is allowed. */
export type JoinCheck = (
  client: RealtimeConnection,
  params: MessageContext['params'],
  context: MessageContext,
) => Promise<unknown>;

/**
 * Who may join a `@Channel` class's channels. `params` are the pattern's parameters (`room:{roomId}` gives
 * `{ roomId }`). Return true to admit, false to refuse (`FORBIDDEN`), or an object: admitted, with that object as the
 * member's presence info in this channel. Guards on the class (or on this method) run first.
 *
 * @example
 * ```ts
 * @Channel('room:{roomId}')
 * export class RoomChannel implements CanJoin<{ roomId: string }> {
 *   canJoin(client: RealtimeConnection, { roomId }: { roomId: string }) {
 *     return roomId !== 'staff' || client.metadata.role === 'admin';
 *   }
 * }
 * ```
 */
export interface CanJoin<P extends Readonly<Record<string, string>> = Readonly<Record<string, string>>> {
  /** Decides a join: true, false (`FORBIDDEN`), or member info for this channel. */
  canJoin(
    client: RealtimeConnection,
    params: P,
    context: MessageContext,
  ): JoinVerdict | Promise<JoinVerdict> | Observable<JoinVerdict>;
}

/** What a join check answers: admitted or not, or admitted with this member info. */
export type JoinVerdict = boolean | Readonly<Record<string, unknown>>;

/** A whisper as a channel's `onWhisper` filter sees it. */
export interface Whisper {
  readonly channel: string;
  readonly event: string;
  readonly payload: unknown;
}

/**
 * What `onWhisper` returns: `false` blocks the whisper (the sender gets `FORBIDDEN`), an object replaces its
 * `event` and/or `payload`, anything else lets it through unchanged.
 */
export type WhisperVerdict = boolean | void | undefined | { readonly event?: string; readonly payload?: unknown };

/**
 * Implemented by a `@Channel` class with `whispers: true` to block or alter whispers before they are relayed.
 *
 * @example
 * ```ts
 * onWhisper(client: RealtimeConnection, whisper: Whisper): WhisperVerdict {
 *   return whisper.event === 'typing' || whisper.event === 'read';
 * }
 * ```
 */
export interface OnWhisper {
  /** Sees each whisper before it is relayed: false blocks it, an object alters it. */
  onWhisper(client: RealtimeConnection, whisper: Whisper): WhisperVerdict | Promise<WhisperVerdict>;
}

/** A `@Channel` class with a pattern: what clients may subscribe to, how joins are authorized, what it offers. */
export interface ChannelDefinition {
  readonly pattern: ChannelPattern;
  readonly classRef: Type;
  readonly options: ResolvedChannelOptions;
  readonly checkJoin: JoinCheck;
  /** The class's `onWhisper`, bound; undefined when it has none. */
  readonly filterWhisper: OnWhisper['onWhisper'] | undefined;
}

/** How a connection is bound to one of its channels: the definition it matched (none for server-side joins). */
export interface ChannelBinding {
  readonly definition: ChannelDefinition | undefined;
  readonly params: Readonly<Record<string, string>>;
}
