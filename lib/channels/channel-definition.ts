import type { Type } from '@nestjs/common';
import type { ChannelPattern } from './channel-pattern.js';
import type { RealtimeClient } from '../interfaces/realtime-client.interface.js';
import type { InboundFrame } from '../protocol/envelope.js';

/** What handlers and join checks get besides the client and the payload (the third argument of the pipeline). */
export interface MessageContext {
  readonly frame: InboundFrame;
  readonly channel: string | undefined;
  readonly params: Readonly<Record<string, string>>;
}

/** Runs a channel class's guards and `canJoin`; resolves to whether the join is allowed. */
export type JoinCheck = (
  client: RealtimeClient,
  params: MessageContext['params'],
  context: MessageContext,
) => Promise<unknown>;

/** A `@Channel` class with a pattern: what clients may subscribe to, and how joins are authorized. */
export interface ChannelDefinition {
  readonly pattern: ChannelPattern;
  readonly classRef: Type;
  readonly checkJoin: JoinCheck;
}

/** How a connection is bound to one of its channels: the definition it matched (none for server-side joins). */
export interface ChannelBinding {
  readonly definition: ChannelDefinition | undefined;
  readonly params: Readonly<Record<string, string>>;
}
