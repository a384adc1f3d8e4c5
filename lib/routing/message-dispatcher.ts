import { Injectable } from '@nestjs/common';
import { EmptyError, isObservable, lastValueFrom } from 'rxjs';
import { ChannelCatalog } from '../channels/channel-catalog.js';
import type { MessageContext } from '../channels/channel-definition.js';
import type { Connection } from '../connection/connection.js';
import { ErrorResponder } from '../exceptions/error-responder.js';
import type { ErrorBody, InboundFrame } from '../protocol/envelope.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { ackFrame } from '../protocol/frames.js';
import { DispatchTable, type Route, type TypeRoutes } from './dispatch-table.js';

interface Target {
  readonly route: Route;
  readonly params: Readonly<Record<string, string>>;
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

/** Runs application frames through their `@OnMessage` handler and answers with `ack` or `error`. */
@Injectable()
export class MessageDispatcher {
  constructor(
    private readonly table: DispatchTable,
    private readonly catalog: ChannelCatalog,
    private readonly errors: ErrorResponder,
  ) {}

  async dispatch(connection: Connection, frame: InboundFrame): Promise<void> {
    const routes = this.table.lookup(frame.type);
    if (!routes) {
      this.errors.refuse(
        connection,
        { code: ErrorCode.UNKNOWN_TYPE, message: `No handler for message type "${frame.type}"` },
        frame.id,
      );
      return;
    }
    const target = this.#select(connection, frame, routes);
    if ('code' in target) {
      this.errors.refuse(connection, target, frame.id);
      return;
    }
    const context: MessageContext = { frame, channel: frame.channel, params: target.params };
    let result: unknown;
    try {
      result = await target.route.handler(connection.view, frame.payload, context, frame.type);
      if (isObservable(result)) {
        result = await lastValueFrom(result, { defaultValue: undefined });
      }
    } catch (exception) {
      if (!(exception instanceof EmptyError)) {
        this.errors.fail(connection, exception, frame.id, target.route.name);
        return;
      }
    }
    if (frame.id !== undefined) {
      try {
        connection.sendEnvelope(ackFrame(frame.id, result));
      } catch (exception) {
        this.errors.fail(connection, exception, frame.id, `${target.route.name} (encoding its result)`);
      }
    }
  }

  #select(connection: Connection, frame: InboundFrame, routes: TypeRoutes): Target | ErrorBody {
    const { channel, type } = frame;
    if (channel === undefined) {
      return routes.global
        ? { route: routes.global, params: NO_PARAMS }
        : notSubscribed(`"${type}" is handled in channels only: send it with the "channel" you subscribed to`);
    }
    const binding = connection.binding(channel);
    if (binding) {
      const route = (binding.definition && routes.byChannel.get(binding.definition)) ?? routes.global;
      return route
        ? { route, params: binding.params }
        : { code: ErrorCode.UNKNOWN_TYPE, message: `No handler for message type "${type}" in channel "${channel}"` };
    }
    const match = this.catalog.match(channel);
    if ((match && routes.byChannel.has(match.definition)) || !routes.global) {
      return notSubscribed(`Subscribe to "${channel}" before sending "${type}" to it`);
    }
    return { route: routes.global, params: NO_PARAMS };
  }
}

function notSubscribed(message: string): ErrorBody {
  return { code: ErrorCode.NOT_SUBSCRIBED, message };
}
