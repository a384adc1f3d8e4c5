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

  /** Writes a message to this node's connections it is for; returns to how many. */
  readonly deliver = (message: BrokerMessage): number => {
    switch (message.kind) {
      case 'channel':
        return this.#count(message.type, deliverToEach(this.registry.inChannel(message.channel), message));
      case 'user':
        return this.#count(message.type, deliverToEach(this.registry.ofUser(message.userId), message));
      case 'all':
        return this.#count(message.type, deliverToEach(this.registry.all(), message));
      case 'connection': {
        const connection = this.registry.get(message.connectionId);
        const frame = outboundFrame(message.frame, message.compress !== false);
        const written = connection?.deliver(frame, message.volatile === true) ? 1 : 0;
        return this.#count(message.type, written);
      }
      case 'disconnect': {
        const targets =
          'userId' in message.target
            ? [...this.registry.ofUser(message.target.userId)]
            : [this.registry.get(message.target.connectionId)];
        let closed = 0;
        for (const connection of targets) {
          if (connection !== undefined) {
            connection.close(message.code, message.reason);
            closed++;
          }
        }
        return closed;
      }
    }
  };

  #count(type: string, delivered: number): number {
    if (delivered > 0) {
      this.stats.framesOut.add(type, delivered);
    }
    return delivered;
  }
}

/**
 * Writes one published message to each connection not excepted, framed once for all of them; in a channel, through
 * each connection's channel delivery (held frames, offsets). Returns how many were written.
 */
function deliverToEach(
  connections: Iterable<Connection>,
  message: Extract<BrokerMessage, { kind: 'channel' | 'user' | 'all' }>,
): number {
  const { except, volatile = false } = message;
  const channel = message.kind === 'channel' ? message : undefined;
  const frame = outboundFrame(message.frame, message.compress !== false);
  let delivered = 0;
  for (const connection of connections) {
    if (except !== undefined && except.includes(connection.id)) {
      continue;
    }
    const written =
      channel === undefined
        ? connection.deliver(frame, volatile)
        : connection.deliverToChannel(channel.channel, frame, channel.offset, volatile);
    if (written) {
      delivered++;
    }
  }
  return delivered;
}
