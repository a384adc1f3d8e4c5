import { Injectable } from '@nestjs/common';
import { Broker, channelTopic } from '../broker/broker.js';
import type { Connection } from '../connection/connection.js';
import { ConnectionRegistry } from '../connection/connection-registry.js';
import { PresenceTracker } from '../presence/presence-tracker.js';
import type { ChannelBinding } from './channel-definition.js';

/**
 * Joins and leaves channels: keeps the connection's own list, the registry's channel index and the broker's
 * interest in step, so a node subscribes to a channel's topic only while it has local members. Leaving a presence
 * channel also leaves its members.
 */
@Injectable()
export class ChannelMembership {
  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly broker: Broker,
    private readonly presence: PresenceTracker,
  ) {}

  /**
   * Returns false when the connection is already a member or has closed meanwhile. With `hold`, the channel's
   * frames wait in the connection until `Connection.release`.
   */
  async join(connection: Connection, channel: string, binding: ChannelBinding, hold = false): Promise<boolean> {
    if (connection.closed || connection.isSubscribed(channel)) {
      return false;
    }
    connection.addSubscription(channel, binding);
    if (hold) {
      connection.hold(channel);
    }
    if (this.registry.addToChannel(connection, channel)) {
      await this.broker.subscribe(channelTopic(channel));
    }
    return true;
  }

  /** Returns false when the connection was not a member. */
  async leave(connection: Connection, channel: string): Promise<boolean> {
    const binding = connection.binding(channel);
    if (binding === undefined || !connection.removeSubscription(channel)) {
      return false;
    }
    try {
      const presence = binding.definition?.options.presence;
      if (presence) {
        await this.presence.remove(channel, connection, presence);
      }
    } finally {
      if (this.registry.removeFromChannel(connection, channel)) {
        await this.broker.unsubscribe(channelTopic(channel));
      }
    }
    return true;
  }

  async leaveAll(connection: Connection): Promise<void> {
    for (const channel of connection.channels) {
      await this.leave(connection, channel);
    }
  }
}
