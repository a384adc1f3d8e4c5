import { Injectable } from '@nestjs/common';
import type { Connection } from './connection.js';

const EMPTY: ReadonlySet<Connection> = new Set();

/** This node's connections, indexed by id, by user and by channel. Holds no remote state. */
@Injectable()
export class ConnectionRegistry {
  readonly #byId = new Map<string, Connection>();
  readonly #byUser = new Map<string, Set<Connection>>();
  readonly #byChannel = new Map<string, Set<Connection>>();

  get size(): number {
    return this.#byId.size;
  }

  /** Adds a connection; returns true when it is the user's first on this node. */
  add(connection: Connection): boolean {
    this.#byId.set(connection.id, connection);
    return connection.userId !== null && addTo(this.#byUser, connection.userId, connection);
  }

  /** Removes a connection (not its channels: leave them first); returns true when it was the user's last here. */
  remove(connection: Connection): boolean {
    if (!this.#byId.delete(connection.id)) {
      return false;
    }
    return connection.userId !== null && removeFrom(this.#byUser, connection.userId, connection);
  }

  /** Returns true when the connection is the channel's first member on this node. */
  addToChannel(connection: Connection, channel: string): boolean {
    return addTo(this.#byChannel, channel, connection);
  }

  /** Returns true when the connection was the channel's last member on this node. */
  removeFromChannel(connection: Connection, channel: string): boolean {
    return removeFrom(this.#byChannel, channel, connection);
  }

  get(connectionId: string): Connection | undefined {
    return this.#byId.get(connectionId);
  }

  all(): IterableIterator<Connection> {
    return this.#byId.values();
  }

  ofUser(userId: string): ReadonlySet<Connection> {
    return this.#byUser.get(userId) ?? EMPTY;
  }

  inChannel(channel: string): ReadonlySet<Connection> {
    return this.#byChannel.get(channel) ?? EMPTY;
  }

  channelCount(): number {
    return this.#byChannel.size;
  }
}

function addTo(index: Map<string, Set<Connection>>, key: string, connection: Connection): boolean {
  const members = index.get(key);
  if (members) {
    members.add(connection);
    return false;
  }
  index.set(key, new Set([connection]));
  return true;
}

function removeFrom(index: Map<string, Set<Connection>>, key: string, connection: Connection): boolean {
  const members = index.get(key);
  if (!members?.delete(connection)) {
    return false;
  }
  if (members.size === 0) {
    index.delete(key);
    return true;
  }
  return false;
}
