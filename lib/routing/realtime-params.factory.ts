import type { MessageContext } from '../channels/channel-definition.js';
import { RealtimeParamtype } from '../decorators/params.decorators.js';

/**
 * The arguments every handler proxy is called with. Nest's `switchToWs()` reads the client from the first, the data
 * from the second and the pattern from the last, so guards and interceptors see the usual WebSocket context.
 */
export type HandlerArguments = [client: unknown, payload: unknown, context: MessageContext, pattern: string];

/** Maps parameter decorators to values of one call (Nest's `ParamsFactory` contract). */
export const realtimeParamsFactory = {
  exchangeKeyForValue(type: number, data: unknown, args: HandlerArguments): unknown {
    const [client, payload, context] = args;
    switch (type) {
      case RealtimeParamtype.CLIENT:
        return client;
      case RealtimeParamtype.PAYLOAD:
        return typeof data === 'string' ? ownProperty(payload, data) : payload;
      case RealtimeParamtype.CHANNEL:
        return context.channel;
      case RealtimeParamtype.CHANNEL_PARAMS:
        return typeof data === 'string' ? ownProperty(context.params, data) : context.params;
      case RealtimeParamtype.ENVELOPE:
        return context.frame;
      default:
        return undefined;
    }
  },
};

function ownProperty(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}
