import { Injectable } from '@nestjs/common';
import type { BrokerMessage } from '../broker/broker.js';
import { RealtimeStats } from '../operations/realtime-stats.js';
import type { Connection } from './connection.js';
import { outboundFrame } from './outbound-frame.js';
import { ConnectionRegistry } from './connection-registry.js';

/** Hands what the broker delivers to this node's own connections: the same encoded frame to each. */
@Injectable()
export class LocalDelivery {
  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly stats: RealtimeStats,
  ) {}

  readonly deliver = (message: BrokerMessage): void => {
    switch (message.kind) {
      case 'channel':
        this.#count(message.type, deliverToChannel(this.registry.inChannel(message.channel), message));
        return;
      case 'user':
        this.#count(message.type, deliverToEach(this.registry.ofUser(message.userId), message));
        return;
      case 'all':
        this.#count(message.type, deliverToEach(this.registry.all(), message));
        return;
      case 'connection': {
        const connection = this.registry.get(message.connectionId);
        this.#count(message.type, connection?.deliver(outboundFrame(message.frame), message.volatile === true) ? 1 : 0);
        return;
      }
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

  #count(type: string, delivered: number): void {
    if (delivered > 0) {
      this.stats.framesOut.add(type, delivered);
    }
  }
}

function deliverToChannel(
  connections: Iterable<Connection>,
  { channel, frame: text, offset, except, volatile = false }: Extract<BrokerMessage, { kind: 'channel' }>,
): number {
  const frame = outboundFrame(text);
  let delivered = 0;
  for (const connection of connections) {
    if (
      (except === undefined || !except.includes(connection.id)) &&
      connection.deliverToChannel(channel, frame, offset, volatile)
    ) {
      delivered++;
    }
  }
  return delivered;
}

function deliverToEach(
  connections: Iterable<Connection>,
  { frame: text, except, volatile = false }: Extract<BrokerMessage, { kind: 'user' | 'all' }>,
): number {
  const frame = outboundFrame(text);
  let delivered = 0;
  for (const connection of connections) {
    if ((except === undefined || !except.includes(connection.id)) && connection.deliver(frame, volatile)) {
      delivered++;
    }
  }
  return delivered;
}
