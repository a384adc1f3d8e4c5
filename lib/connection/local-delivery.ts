import { Injectable } from '@nestjs/common';
import type { BrokerMessage } from '../broker/broker.js';
import type { Connection } from './connection.js';
import { ConnectionRegistry } from './connection-registry.js';

/** Hands what the broker delivers to this node's own connections: the same encoded frame to each. */
@Injectable()
export class LocalDelivery {
  constructor(private readonly registry: ConnectionRegistry) {}

  readonly deliver = (message: BrokerMessage): void => {
    switch (message.kind) {
      case 'channel':
        deliverToChannel(this.registry.inChannel(message.channel), message);
        return;
      case 'user':
        sendToEach(this.registry.ofUser(message.userId), message.frame, message.except);
        return;
      case 'all':
        sendToEach(this.registry.all(), message.frame, message.except);
        return;
      case 'connection':
        this.registry.get(message.connectionId)?.sendText(message.frame);
        return;
      case 'disconnect': {
        const targets =
          'userId' in message.target
            ? [...this.registry.ofUser(message.target.userId)]
            : [this.registry.get(message.target.connectionId)];
        for (const connection of targets) {
          connection?.close(message.code, message.reason);
        }
        return;
      }
    }
  };
}

function deliverToChannel(
  connections: Iterable<Connection>,
  { channel, frame, offset, except }: Extract<BrokerMessage, { kind: 'channel' }>,
): void {
  for (const connection of connections) {
    if (except === undefined || !except.includes(connection.id)) {
      connection.deliverToChannel(channel, frame, offset);
    }
  }
}

function sendToEach(connections: Iterable<Connection>, frame: string, except: readonly string[] | undefined): void {
  if (except === undefined || except.length === 0) {
    for (const connection of connections) {
      connection.sendText(frame);
    }
    return;
  }
  for (const connection of connections) {
    if (!except.includes(connection.id)) {
      connection.sendText(frame);
    }
  }
}
