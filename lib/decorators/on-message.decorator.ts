import { RealtimeOptionsError } from '../util/option-checks.js';
import { ControlType } from '../protocol/message-types.js';
import { PROTOCOL_LIMITS, isValidName } from '../protocol/limits.js';
import { MESSAGE_METADATA } from '../realtime.constants.js';

const CONTROL_TYPES: ReadonlySet<string> = new Set(Object.values(ControlType));

/**
 * Routes client frames of `type` to this method of a `@Channel` class, through the app's guards, interceptors,
 * pipes and exception filters. The return value (a value, Promise or Observable) is the `ack` payload sent back
 * when the frame had an `id`. Stack it to handle several types with one method.
 *
 * @example
 * ```ts
 * @OnMessage('chat:group')
 * send(@Payload() message: ChatMessageDto, @ConnectedClient() client: RealtimeConnection) { ... }
 * ```
 */
export function OnMessage(type: string): MethodDecorator {
  if (typeof type !== 'string' || !isValidName(type)) {
    throw new RealtimeOptionsError(
      `@OnMessage(${JSON.stringify(type)}): a message type is 1 to ${PROTOCOL_LIMITS.nameMaxLength} ` +
        `letters, digits or "_ . : / -" characters`,
    );
  }
  if (CONTROL_TYPES.has(type)) {
    throw new RealtimeOptionsError(
      `@OnMessage("${type}"): "${type}" is a control frame type the library handles itself`,
    );
  }
  return (_target, _key, descriptor) => {
    const handler = descriptor.value as object;
    const types = (Reflect.getMetadata(MESSAGE_METADATA, handler) as string[] | undefined) ?? [];
    Reflect.defineMetadata(MESSAGE_METADATA, [...types, type], handler);
  };
}
