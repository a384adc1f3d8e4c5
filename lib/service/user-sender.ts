import { Injectable } from '@nestjs/common';
import { Broker } from '../broker/broker.js';
import { ConnectionCounter } from '../connection/connection-counter.js';
import { ConnectionRegistry } from '../connection/connection-registry.js';
import type { RealtimeEnvelope } from '../protocol/envelope.js';

/** What a send to a user learned: how many of this node's connections got it, and whether the user is online. */
export interface UserDelivery {
  readonly delivered: number;
  /** Whether the user had a connection on some node (cluster-wide on Redis). */
  readonly online: boolean;
}

/** Connections left out, and how to deliver. */
export interface UserSendHow {
  readonly except?: readonly string[];
  readonly volatile?: boolean;
  readonly compress?: false;
}

/** Publishes an encoded message to every connection of a user, and tells whether the user had one anywhere. */
@Injectable()
export class UserSender {
  constructor(
    private readonly broker: Broker,
    private readonly registry: ConnectionRegistry,
    private readonly counter: ConnectionCounter,
  ) {}

  async send(userId: string, envelope: RealtimeEnvelope, frame: string, how: UserSendHow = {}): Promise<UserDelivery> {
    const { type } = envelope;
    const report = await this.broker.publish({ kind: 'user', userId, type, frame, ...how });
    // Nodes subscribe to a user's topic only while they hold one of its connections: any receiver holds one. This
    // node counts too when its only connections of the user were excepted.
    const online = report.delivered > 0 || report.forwarded > 0 || this.registry.ofUser(userId).size > 0;
    // A broker that cannot tell (-1): the connection counter knows; if it cannot answer either, say online.
    if (!online && report.forwarded < 0) {
      return {
        delivered: report.delivered,
        online: await this.counter.count(userId).then(
          (n) => n > 0,
          () => true,
        ),
      };
    }
    return { delivered: report.delivered, online };
  }
}
