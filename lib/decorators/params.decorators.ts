import { RealtimeOptionsError } from '../util/option-checks.js';
import type { PipeTransform, Type } from '@nestjs/common';
import { ConnectedSocket, MessageBody } from '@nestjs/websockets';
import { ROUTE_ARGS_METADATA } from '../realtime.constants.js';
import { isStandardSchema, StandardSchemaPipe, type StandardSchemaV1 } from '../validation/standard-schema.js';

/**
 * Parameter types understood by the library's params factory. `CLIENT` and `PAYLOAD` are the values Nest's own
 * `@ConnectedSocket()` and `@MessageBody()` write, so both families of decorators work on handlers.
 */
export const RealtimeParamtype = {
  CLIENT: 0,
  PAYLOAD: 3,
  CHANNEL: 100,
  CHANNEL_PARAMS: 101,
  ENVELOPE: 102,
} as const;

/** A pipe, or a Standard Schema (zod, valibot, arktype) that validates and becomes the value. */
type PipeLike = Type<PipeTransform> | PipeTransform | StandardSchemaV1;

/**
 * The frame's `payload` (or one property of it), through the given pipes. Same as Nest's `@MessageBody()`, and also
 * takes Standard Schemas: `@Payload(z.object({ text: z.string() }))` validates with the schema and passes on its
 * output; an invalid payload is answered `VALIDATION_FAILED`, listing each issue.
 */
export function Payload(): ParameterDecorator;
export function Payload(...pipes: PipeLike[]): ParameterDecorator;
export function Payload(property: string, ...pipes: PipeLike[]): ParameterDecorator;
export function Payload(...args: unknown[]): ParameterDecorator {
  const pipes = args.map((arg) => (isStandardSchema(arg) ? new StandardSchemaPipe(arg) : arg));
  return (MessageBody as (...args: unknown[]) => ParameterDecorator)(...pipes);
}

/** The `RealtimeConnection` that sent the frame. Same as Nest's `@ConnectedSocket()`. */
export function ConnectedClient(): ParameterDecorator {
  return ConnectedSocket();
}

/** The frame's channel name (`undefined` for frames without one). */
export function ChannelName(): ParameterDecorator {
  return paramDecorator(RealtimeParamtype.CHANNEL);
}

/** The params bound by the channel pattern (`{ roomId: '42' }` for `room:{roomId}`), or one of them by key. */
export function ChannelParams(key?: string): ParameterDecorator {
  return paramDecorator(RealtimeParamtype.CHANNEL_PARAMS, key);
}

/** The whole validated inbound frame (`type`, `id`, `channel`, `recipient`, `payload`, `metadata`). */
export function Envelope(): ParameterDecorator {
  return paramDecorator(RealtimeParamtype.ENVELOPE);
}

function paramDecorator(paramtype: number, data?: string): ParameterDecorator {
  return (target, key, index) => {
    if (key === undefined) {
      throw new RealtimeOptionsError('Realtime parameter decorators apply to method parameters only');
    }
    const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, key) as object | undefined) ?? {};
    Reflect.defineMetadata(
      ROUTE_ARGS_METADATA,
      { ...args, [`${paramtype}:${index}`]: { index, data, pipes: [] } },
      target.constructor,
      key,
    );
  };
}
